import type { FastifyReply, FastifyRequest } from 'fastify';
import { extname } from 'node:path';
import { resultKeyOf } from '../cache/result-key.js';
import { fromErrorInfo } from '../errors.js';
import { CONTENT_TYPES, EXTENSIONS } from '../image/encode.js';
import { isAuto, resolveAutoFormat } from '../pipeline/negotiate.js';
import type { ProcessStats } from '../pipeline/process.js';
import type { ValidPipeline } from '../pipeline/spec.js';
import type { Source } from '../sources/source-store.js';
import type { ServerContext } from './context.js';

export interface ResultRequest {
  source: Source;
  /** As the request gave it: `output:auto` is negotiated here from the Accept header. */
  pipeline: ValidPipeline;
  /** The source's file name, for Content-Disposition. */
  name: string;
  /** Cache-Control max-age in seconds; none sends no Cache-Control. */
  maxAgeSeconds?: number;
}

/**
 * One image's result over HTTP, shared by /v1/process and image URLs: the format negotiated,
 * the content address as the ETag (a matching If-None-Match gets 304 without any work), the
 * result from the cache or computed once, and headers saying which.
 */
export async function sendResult(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply, job: ResultRequest): Promise<FastifyReply> {
  const pipeline = resolveAutoFormat(job.pipeline, request.headers.accept);
  const started = performance.now();
  const key = resultKeyOf(job.source.digest, pipeline.spec);
  const etag = `"${key}"`;
  reply.header('ETag', etag);
  if (isAuto(job.pipeline)) reply.header('Vary', 'Accept');
  if (job.maxAgeSeconds !== undefined) reply.header('Cache-Control', `public, max-age=${job.maxAgeSeconds}`);
  if (etagMatches(request.headers['if-none-match'], etag)) return reply.status(304).send();

  const served = await ctx.results.serve(key, async () => {
    const outcome = await ctx.engine.runBytes({ input: await job.source.bytes(), spec: pipeline.spec, limits: ctx.options.limits });
    ctx.metrics.recordImage(outcome.ok ? { ok: true, stats: outcome.result.stats } : outcome);
    return outcome;
  });
  if (!served.ok) throw fromErrorInfo(served.error);
  const { entry } = served;
  reply.header('X-Imgfleet-Cache', served.cache);
  if (served.worker) reply.header('X-Imgfleet-Worker', served.worker);
  reply.header('Server-Timing', served.stats ? serverTiming(served.stats) : `cache;dur=${(performance.now() - started).toFixed(2)}`);
  if (entry.meta.kind === 'data') return reply.type('application/json; charset=utf-8').send(entry.body);
  const format = entry.meta.format!;
  const stem = job.name.slice(0, job.name.length - extname(job.name).length).replace(/[^A-Za-z0-9._-]+/g, '_') || 'image';
  return reply
    .type(CONTENT_TYPES[format])
    .header('Content-Disposition', `inline; filename="${stem}${EXTENSIONS[format]}"`)
    .header('X-Image-Width', String(entry.meta.width))
    .header('X-Image-Height', String(entry.meta.height))
    .send(entry.body);
}

/** If-None-Match: `*`, or a list of tags, weak (`W/"…"`) or strong, compared weakly as RFC 9110 asks. */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').map((t) => t.trim()).some((t) => t === '*' || t.replace(/^W\//, '') === etag);
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
