import type { FastifyReply, FastifyRequest } from 'fastify';
import { fromErrorInfo } from '../errors.js';
import { looksAnimated } from '../image/animation.js';
import { readHead } from '../io/read-head.js';
import { isAuto, resolveAutoFormat } from '../pipeline/negotiate.js';
import type { ProcessStats } from '../pipeline/process.js';
import type { OutputFormat, ValidPipeline } from '../pipeline/spec.js';
import type { ImageRequest } from '../runner/request.js';
import type { ServerContext } from './context.js';
import { imageHeaders, workerLabel } from './image-headers.js';
import { bodyAccount, workSignal } from './request-guard.js';

export interface ResultRequest {
  source: ImageRequest['source'];
  /** As the request gave it: `output:auto` is negotiated here from the Accept header. */
  pipeline: ValidPipeline;
  /** The source's file name, for Content-Disposition. */
  name: string;
  /** Cache-Control max-age in seconds; none sends no Cache-Control. */
  maxAgeSeconds?: number;
  /** Logos sent with the request. */
  assets?: ImageRequest['assets'];
  /** Image URLs are public: their responses do not name the worker. */
  anonymous?: boolean;
  /** Request headers besides Accept that the result depends on (client hints). */
  vary?: string[];
}

/**
 * One image's result over HTTP, shared by /v1/process and image URLs: the format negotiated,
 * the content address as the ETag (a matching If-None-Match gets 304 without any work), the
 * result from the runner (the cache, or computed once), and headers saying which.
 */
export async function sendResult(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply, job: ResultRequest): Promise<FastifyReply> {
  const animated = isAuto(job.pipeline) && looksAnimated(await headOf(job.source));
  const pipeline = resolveAutoFormat(job.pipeline, request.headers.accept, { animated });
  const started = performance.now();
  const image: ImageRequest = {
    source: job.source, pipeline, sink: { kind: 'bytes' }, priority: 'interactive', signal: workSignal(request), ...(job.assets ? { assets: job.assets } : {}),
  };
  const etag = `"${await ctx.runner.address(image)}"`;
  reply.header('ETag', etag);
  const vary = [...(isAuto(job.pipeline) ? ['Accept'] : []), ...(job.vary ?? [])];
  if (vary.length > 0) reply.header('Vary', vary.join(', '));
  if (job.maxAgeSeconds !== undefined) reply.header('Cache-Control', `public, max-age=${job.maxAgeSeconds}`);
  if (etagMatches(request.headers['if-none-match'], etag)) return reply.status(304).send();

  const outcome = await ctx.runner.run(image);
  if (!outcome.ok) throw fromErrorInfo(outcome.error);
  reply.header('X-Imgfleet-Cache', outcome.cache ?? 'miss');
  if (outcome.cache !== 'hit' && !job.anonymous) reply.header('X-Imgfleet-Worker', workerLabel(outcome.worker));
  reply.header('Server-Timing', outcome.stats.path === 'cache' ? `cache;dur=${(performance.now() - started).toFixed(2)}` : serverTiming(outcome.stats));
  if (outcome.data !== undefined) return reply.type('application/json; charset=utf-8').send(JSON.stringify(outcome.data));
  const output = outcome.output!;
  // Until it is sent, the result takes its place in the in-flight budget beside request bodies.
  if (outcome.body) bodyAccount(request)?.hold(outcome.body.length);
  return imageHeaders(reply, job.name, output.format as OutputFormat, output).send(outcome.body);
}

/** The first bytes of a request's source, where the server has them at hand (nothing for other sources). */
async function headOf(source: ImageRequest['source']): Promise<Uint8Array> {
  if (source.kind === 'store') return source.source.head();
  if (source.kind === 'bytes') return source.bytes.subarray(0, 4096);
  if (source.kind === 'file') return readHead(source.path, 4096);
  return new Uint8Array(0);
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

