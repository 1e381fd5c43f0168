import type { FastifyInstance } from 'fastify';
import { extname } from 'node:path';
import { fromErrorInfo } from '../../errors.js';
import { CONTENT_TYPES, EXTENSIONS } from '../../image/encode.js';
import type { ProcessStats } from '../../pipeline/process.js';
import type { ServerContext } from '../context.js';
import { requestPipeline } from '../pipeline-param.js';
import { readImageUpload } from '../uploads.js';
import { admitWhileResponding, ERROR_RESPONSES } from './shared.js';

export async function processRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.post<{ Querystring: { pipeline?: string; name?: string } }>('/v1/process', {
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
        },
      },
      response: { 200: { description: 'the processed image (or JSON for a data pipeline)', type: 'string', format: 'binary' }, ...ERROR_RESPONSES },
    },
  }, async (request, reply) => {
    const upload = await readImageUpload(request, ctx.options.limits);
    const pipeline = requestPipeline(upload.fields.pipeline ?? request.query.pipeline, ctx.options.limits, ctx.options.assetsDir);
    const outcome = await ctx.engine.runBytes({ input: upload.bytes, spec: pipeline.spec, limits: ctx.options.limits });
    ctx.metrics.recordImage(outcome.ok ? { ok: true, stats: outcome.result.stats } : outcome);
    if (!outcome.ok) throw fromErrorInfo(outcome.error);
    const { result } = outcome;
    reply.header('X-Imgfleet-Worker', outcome.worker).header('Server-Timing', serverTiming(result.stats));
    if (result.kind === 'data') return result.data;
    const stem = upload.name.slice(0, upload.name.length - extname(upload.name).length).replace(/[^A-Za-z0-9._-]+/g, '_') || 'image';
    return reply
      .type(CONTENT_TYPES[result.format])
      .header('Content-Disposition', `inline; filename="${stem}${EXTENSIONS[result.format]}"`)
      .header('X-Image-Width', String(result.width))
      .header('X-Image-Height', String(result.height))
      .send(result.data);
  });
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
