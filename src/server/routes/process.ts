import type { FastifyInstance, FastifyReply } from 'fastify';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { CONTENT_TYPES, EXTENSIONS } from '../../image/encode.js';
import { tileRunner } from '../../jobs/run-batch.js';
import type { ValidPipeline } from '../../pipeline/spec.js';
import { sourceOf } from '../../sources/source-store.js';
import { checkTileable } from '../../tiling/choose.js';
import { processTiledFile } from '../../tiling/run-tiled.js';
import type { ServerContext } from '../context.js';
import { requestPipeline } from '../pipeline-param.js';
import { sendResult, serverTiming } from '../send-result.js';
import { readImageUpload } from '../uploads.js';
import { admitWhileResponding, ERROR_RESPONSES } from './shared.js';

export async function processRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.post<{ Querystring: { pipeline?: string; name?: string; tile?: number } }>('/v1/process', {
    onRequest: admitWhileResponding(ctx.pending),
    schema: {
      summary: 'Process one image',
      description: 'One image (multipart field `file`, or the raw body) and a pipeline (multipart field `pipeline` or query `pipeline`, JSON or compact syntax) → the processed image. `output:auto` picks AVIF or WebP from the Accept header. ETag is the result\'s content address (If-None-Match → 304); X-Imgfleet-Cache says hit, miss or shared; Server-Timing carries the time of each step; X-Imgfleet-Worker names the worker.',
      tags: ['images'],
      consumes: ['multipart/form-data', 'application/octet-stream', 'image/*'],
      querystring: {
        type: 'object',
        properties: {
          pipeline: { type: 'string', description: 'JSON or compact syntax, e.g. resize:512:512:fit=fill,blur:2,output:webp:80' },
          name: { type: 'string', description: 'file name of a raw-body upload' },
          tile: { type: 'integer', minimum: 64, maximum: 65535, description: 'run the image as tiles of this many pixels a side, across the workers (not cached)' },
        },
      },
      response: { 200: { description: 'the processed image (or JSON for a data pipeline)', type: 'string', format: 'binary' }, 304: { description: 'not modified (If-None-Match)', type: 'null' }, ...ERROR_RESPONSES },
    },
  }, async (request, reply) => {
    const upload = await readImageUpload(request, ctx.options.limits);
    const logos = await ctx.logos.hold(upload.logos);
    reply.raw.once('close', logos.release);
    const pipeline = requestPipeline(upload.fields.pipeline ?? request.query.pipeline, ctx.options.limits, ctx.options.assetsDir, logos.paths);
    if (request.query.tile !== undefined) return sendTiled(ctx, reply, upload.bytes, upload.name, pipeline, request.query.tile);
    return sendResult(ctx, request, reply, { source: sourceOf(upload.bytes), pipeline, name: upload.name });
  });
}

/** A large image as tiles: the upload goes to a file, and the output is streamed back from one. */
async function sendTiled(ctx: ServerContext, reply: FastifyReply, bytes: Buffer, name: string, pipeline: ValidPipeline, tileSize: number): Promise<FastifyReply> {
  checkTileable(pipeline, { tileSize });
  const dir = await mkdtemp(join(ctx.options.dataDir, 'tiled-'));
  const removeDir = () => void rm(dir, { recursive: true, force: true });
  try {
    const input = join(dir, 'input');
    await writeFile(input, bytes);
    const output = join(dir, 'output');
    const result = await processTiledFile(input, output, pipeline, { runner: tileRunner(ctx.engine), tileSize, limits: ctx.options.limits });
    ctx.metrics.recordImage({ ok: true, stats: result.stats });
    reply.raw.once('close', removeDir);
    const stem = name.slice(0, name.length - extname(name).length).replace(/[^A-Za-z0-9._-]+/g, '_') || 'image';
    return reply
      .type(CONTENT_TYPES[result.format])
      .header('Content-Disposition', `inline; filename="${stem}${EXTENSIONS[result.format]}"`)
      .header('Server-Timing', serverTiming(result.stats))
      .header('X-Imgfleet-Tiles', String(result.stats.tiles?.count ?? 0))
      .header('X-Image-Width', String(result.width))
      .header('X-Image-Height', String(result.height))
      .send(createReadStream(output));
  } catch (error) {
    removeDir();
    throw error;
  }
}
