import type { FastifyInstance } from 'fastify';
import { createReadStream } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { ImgfleetError } from '../../errors.js';
import { CONTENT_TYPES, EXTENSIONS } from '../../image/encode.js';
import type { OutputFormat } from '../../pipeline/spec.js';
import { checkTileable, type TilingChoice } from '../../tiling/choose.js';
import type { TileEvent } from '../../tiling/run-tiled.js';
import type { ServerContext } from '../context.js';
import type { ServerJob } from '../job-store.js';
import { sentLogos } from '../logos.js';
import { requestPipeline } from '../pipeline-param.js';
import { discardUploads, saveImageUploads } from '../uploads.js';
import { zipStream, type ZipEntry } from '../zip-stream.js';
import { ERROR_RESPONSES } from './shared.js';

const ID_PARAMS = { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } as const;
const TYPE_BY_EXTENSION = new Map(Object.entries(EXTENSIONS).map(([format, ext]) => [ext, CONTENT_TYPES[format as OutputFormat]]));

export async function jobRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const { jobs, options } = ctx;
  let openStreams = 0;

  app.post<{ Querystring: { pipeline?: string; tile?: string } }>('/v1/jobs', {
    onRequest: async () => {
      if (jobs.unfinishedImages() >= options.maxQueuedImages) throw queueFull(jobs.unfinishedImages(), options.maxQueuedImages);
      if (jobs.size >= options.maxJobs) {
        throw new ImgfleetError('QUEUE_FULL', `the server keeps as many jobs as it may (${options.maxJobs}); delete finished ones, or retry when they expire`);
      }
    },
    schema: {
      summary: 'Start a batch job',
      description: `Many images (multipart, one \`file\` field each, at most ${options.maxFiles}) and one pipeline (field \`pipeline\` or query \`pipeline\`) → 202 with the job's id. Follow it with GET /v1/jobs/{id} or its events.`,
      tags: ['jobs'],
      consumes: ['multipart/form-data'],
      querystring: {
        type: 'object',
        properties: {
          pipeline: { type: 'string' },
          tile: { type: 'string', description: 'run every image as tiles of this many pixels a side (also a multipart field); without it, images over 16 MP are tiled when the pipeline allows' },
        },
      },
      response: {
        202: { type: 'object', properties: { id: { type: 'string' }, status: { type: 'string' }, events: { type: 'string' }, archive: { type: 'string' }, files: { type: 'integer' } } },
        ...ERROR_RESPONSES,
      },
    },
  }, async (request, reply) => {
    const { id, dir } = jobs.newJobDir();
    try {
      const upload = await saveImageUploads(request, join(dir, 'in'), options.limits, options.maxFiles, { disk: ctx.disk, job: id });
      const logos = await sentLogos(upload.logos, options.limits);
      const pipeline = requestPipeline(upload.fields.pipeline ?? request.query.pipeline, options, { logos: logos.names });
      const tiling = tilingChoice(upload.fields.tile ?? request.query.tile);
      checkTileable(pipeline, tiling);
      const unfinished = jobs.unfinishedImages();
      if (unfinished + upload.files.length > options.maxQueuedImages) throw queueFull(unfinished, options.maxQueuedImages);
      jobs.start(id, dir, upload.files, pipeline, tiling, logos.assets);
    } catch (error) {
      await discardUploads(dir);
      ctx.disk.release(id);
      throw error;
    }
    const base = `/v1/jobs/${id}`;
    return reply.status(202).header('Location', base).send({ id, status: base, events: `${base}/events`, archive: `${base}/archive`, files: jobs.get(id).batch.items.length });
  });

  app.get<{ Params: { id: string } }>('/v1/jobs/:id', {
    schema: { summary: 'A job: state, counts, and each file\'s status, output and error', tags: ['jobs'], params: ID_PARAMS },
  }, async (request) => jobs.status(jobs.get(request.params.id)));

  app.get<{ Params: { id: string } }>('/v1/jobs/:id/events', {
    schema: { summary: 'Server-Sent Events: `status` first, `file` as each file changes, `tile` as each tile of a large image runs and ends, `end` when all are done', tags: ['jobs'], params: ID_PARAMS },
  }, async (request, reply) => {
    const job = jobs.get(request.params.id);
    if (openStreams >= options.maxEventStreams) {
      throw new ImgfleetError('QUEUE_FULL', `as many event streams are open as this server allows (${options.maxEventStreams}); poll GET /v1/jobs/${job.id} instead, or retry later`);
    }
    openStreams++;
    reply.raw.once('close', () => { openStreams--; });
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    send('status', jobs.status(job));
    const onItem = (index: number) => {
      const item = job.batch.items[index];
      send('file', { index, ...jobs.file(job, item, index) });
    };
    const onTile = (index: number, event: TileEvent) => send('tile', { index, ...event });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    const stop = () => {
      clearInterval(heartbeat);
      job.batch.off('item', onItem);
      job.batch.off('tile', onTile);
    };
    job.batch.on('item', onItem);
    job.batch.on('tile', onTile);
    res.once('close', stop);
    void job.finished.then(() => {
      if (res.writableEnded || res.destroyed) return;
      send('end', jobs.status(job));
      stop();
      res.end();
    });
  });

  app.get<{ Params: { id: string; name: string }; Querystring: { download?: string } }>('/v1/jobs/:id/files/:name', {
    schema: {
      summary: 'One output of a job, by its name in the job\'s status',
      tags: ['jobs'],
      params: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } }, required: ['id', 'name'] },
      querystring: { type: 'object', properties: { download: { type: 'string', description: 'any value: serve as an attachment' } } },
    },
  }, async (request, reply) => {
    const job = jobs.get(request.params.id);
    const path = jobs.outputPath(job, request.params.name);
    const name = basename(path);
    reply.type(TYPE_BY_EXTENSION.get(extname(name).toLowerCase()) ?? 'application/octet-stream');
    reply.header('Content-Disposition', `${request.query.download !== undefined ? 'attachment' : 'inline'}; filename="${name}"`);
    return reply.send(createReadStream(path));
  });

  app.get<{ Params: { id: string } }>('/v1/jobs/:id/archive', {
    schema: { summary: 'A zip of the job\'s outputs so far (images, or JSON for data pipelines)', tags: ['jobs'], params: ID_PARAMS },
  }, async (request, reply) => {
    const job = jobs.get(request.params.id);
    reply.type('application/zip').header('Content-Disposition', `attachment; filename="imgfleet-${job.id.slice(0, 8)}.zip"`);
    if (!job.finishedAt) reply.header('X-Imgfleet-Partial', 'true');
    return reply.send(zipOutputs(job) as Readable);
  });

  app.delete<{ Params: { id: string } }>('/v1/jobs/:id', {
    schema: { summary: 'Cancel a job (images in flight finish) and delete its files', tags: ['jobs'], params: ID_PARAMS },
  }, async (request, reply) => {
    jobs.get(request.params.id);
    await jobs.remove(request.params.id);
    return reply.status(204).send();
  });
}

export function tilingChoice(text: string | undefined): TilingChoice {
  if (text === undefined || text === '') return {};
  const size = Number(text);
  if (!Number.isInteger(size) || size < 64 || size > 65_535) throw new ImgfleetError('BAD_USAGE', `tile: expected a tile size in pixels from 64 to 65535, got "${text}"`);
  return { tileSize: size };
}

function queueFull(unfinished: number, limit: number): ImgfleetError {
  return new ImgfleetError('QUEUE_FULL', `the server is busy (${unfinished} images queued, limit ${limit}); retry shortly`);
}

/** A zip of the outputs, streamed as the client reads it; images are stored as they are (already compressed). */
function zipOutputs(job: ServerJob): Readable {
  const entries = function* (): Generator<ZipEntry> {
    for (const [index, item] of job.batch.items.entries()) {
      if (item.status !== 'done') continue;
      if (item.output) yield { name: basename(item.output), path: item.output };
      else {
        const upload = job.names[index];
        yield { name: `${upload.slice(0, upload.length - extname(upload).length)}.json`, bytes: Buffer.from(`${JSON.stringify(item.data)}\n`) };
      }
    }
  };
  return zipStream(entries());
}
