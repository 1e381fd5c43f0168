import type { FastifyInstance, FastifyReply } from 'fastify';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fromErrorInfo } from '../../errors.js';
import type { OutputFormat, ValidPipeline } from '../../pipeline/spec.js';
import { checkTileable } from '../../tiling/choose.js';
import type { ServerContext } from '../context.js';
import { imageHeaders } from '../image-headers.js';
import { requestPipeline } from '../pipeline-param.js';
import { sendResult, serverTiming } from '../send-result.js';
import { sentLogos, type SentLogos } from '../logos.js';
import { workSignal } from '../request-guard.js';
import { readImageUpload, type ImageUpload } from '../uploads.js';
import { ERROR_RESPONSES, imageRouteHooks } from './shared.js';

export async function processRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.post<{ Querystring: { pipeline?: string; name?: string; tile?: number } }>('/v1/process', {
    ...imageRouteHooks(ctx, 'process', true),
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
    const upload = await readImageUpload(request, { limits: ctx.options.limits, spillDir: ctx.spillDir, spillAbove: ctx.options.spillBytes });
    const logos = await sentLogos(upload.logos, ctx.options.limits);
    const pipeline = requestPipeline(upload.fields.pipeline ?? request.query.pipeline, ctx.options, { logos: logos.names });
    if (request.query.tile !== undefined) return sendTiled(ctx, reply, upload, pipeline, request.query.tile, logos.assets, workSignal(request));
    return sendResult(ctx, request, reply, { source: upload.source, pipeline, name: upload.name, assets: logos.assets });
  });
}

/** A large image as tiles: the result goes to a file, and is streamed back from it. */
async function sendTiled(ctx: ServerContext, reply: FastifyReply, upload: ImageUpload, pipeline: ValidPipeline, tileSize: number, assets: SentLogos['assets'], signal: AbortSignal | undefined): Promise<FastifyReply> {
  checkTileable(pipeline, { tileSize });
  const dir = await mkdtemp(join(ctx.options.dataDir, 'tiled-'));
  const removeDir = () => void rm(dir, { recursive: true, force: true });
  try {
    const output = join(dir, 'output');
    const outcome = await ctx.runner.run({
      source: upload.source, pipeline, sink: { kind: 'file', path: output }, priority: 'interactive', tiling: { tileSize }, assets, signal,
    });
    if (!outcome.ok) throw fromErrorInfo(outcome.error);
    reply.raw.once('close', removeDir);
    return imageHeaders(reply, upload.name, outcome.output!.format as OutputFormat, outcome.output!)
      .header('Server-Timing', serverTiming(outcome.stats))
      .header('X-Imgfleet-Tiles', String(outcome.stats.tiles?.count ?? 0))
      .send(createReadStream(output));
  } catch (error) {
    removeDir();
    throw error;
  }
}
