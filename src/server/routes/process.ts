import type { FastifyInstance, FastifyReply } from 'fastify';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tileRunner } from '../../jobs/run-batch.js';
import type { ValidPipeline } from '../../pipeline/spec.js';
import { checkTileable } from '../../tiling/choose.js';
import { processTiledFile } from '../../tiling/run-tiled.js';
import { extname } from 'node:path';
import { fromErrorInfo } from '../../errors.js';
import { CONTENT_TYPES, EXTENSIONS } from '../../image/encode.js';
import type { ProcessStats } from '../../pipeline/process.js';
import type { ServerContext } from '../context.js';
import { requestPipeline } from '../pipeline-param.js';
import { readImageUpload } from '../uploads.js';
import { admitWhileResponding, ERROR_RESPONSES } from './shared.js';

export async function processRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.post<{ Querystring: { pipeline?: string; name?: string; tile?: number } }>('/v1/process', {
    onRequest: admitWhileResponding(ctx.pending),
    schema: {
      summary: 'Process one image',
      description: 'One image (multipart field `file`, or the raw body) and a pipeline (multipart field `pipeline` or query `pipeline`, JSON or compact syntax) → the processed image. Server-Timing carries the time of each step; X-Imgfleet-Worker names the worker.',
      tags: ['images'],
      consumes: ['multipart/form-data', 'application/octet-stream', 'image/*'],
      querystring: {
        type: 'object',
        properties: {
          pipeline: { type: 'string', description: 'JSON or compact syntax, e.g. resize:512:512:fit=fill,blur:2,output:webp:80' },
          name: { type: 'string', description: 'file name of a raw-body upload' },
          tile: { type: 'integer', minimum: 64, maximum: 65535, description: 'run the image as tiles of this many pixels a side, across the workers' },
        },
      },
      response: { 200: { description: 'the processed image (or JSON for a data pipeline)', type: 'string', format: 'binary' }, ...ERROR_RESPONSES },
    },
  }, async (request, reply) => {
    const upload = await readImageUpload(request, ctx.options.limits);
    const pipeline = requestPipeline(upload.fields.pipeline ?? request.query.pipeline, ctx.options.limits, ctx.options.assetsDir);
    if (request.query.tile !== undefined) return sendTiled(ctx, reply, upload.bytes, upload.name, pipeline, request.query.tile);
    const outcome = await ctx.engine.runBytes({ input: upload.bytes, spec: pipeline.spec, limits: ctx.options.limits });
    ctx.metrics.recordImage(outcome.ok ? { ok: true, stats: outcome.result.stats } : outcome);
    if (!outcome.ok) throw fromErrorInfo(outcome.error);
    const { result } = outcome;
    reply.header('X-Imgfleet-Worker', outcome.worker).header('Server-Timing', serverTiming(result.stats));
    if (result.kind === 'data') return result.data;
    const stem = stemOf(upload.name);
    return reply
      .type(CONTENT_TYPES[result.format])
      .header('Content-Disposition', `inline; filename="${stem}${EXTENSIONS[result.format]}"`)
      .header('X-Image-Width', String(result.width))
      .header('X-Image-Height', String(result.height))
      .send(result.data);
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
    return reply
      .type(CONTENT_TYPES[result.format])
      .header('Content-Disposition', `inline; filename="${stemOf(name)}${EXTENSIONS[result.format]}"`)
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

function stemOf(name: string): string {
  return name.slice(0, name.length - extname(name).length).replace(/[^A-Za-z0-9._-]+/g, '_') || 'image';
}

/** `probe;dur=0.4, resize;dur=3.1, blur;dur=1.2, encode;dur=4.0, total;dur=8.9` (a repeated step gets -2, -3…). */
export function serverTiming(stats: ProcessStats): string {
  const seen = new Map<string, number>();
  const entries = [['probe', stats.probeMs] as const, ...stats.steps.map((s) => [s.op, s.ms] as const), ['encode', stats.encodeMs] as const, ['total', stats.totalMs] as const];
  return entries.map(([name, ms]) => {
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return `${n > 1 ? `${name}-${n}` : name};dur=${ms.toFixed(2)}`;
  }).join(', ');
}
