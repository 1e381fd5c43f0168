import type { FastifyReply, FastifyRequest, onRequestHookHandler, onSendHookHandler } from 'fastify';
import { ImgfleetError } from '../errors.js';
import { formatBytes } from '../limits.js';
import type { Admission } from './admission.js';
import type { ByteBudget } from './byte-budget.js';
import type { BodyAccount } from './request-body.js';

/** What a guarded request carries: the signal that stops its work, and the account of its body. */
interface Guarded {
  signal: AbortSignal;
  account: BodyAccount;
}

const guarded = new WeakMap<FastifyRequest, Guarded>();

export interface GuardOptions {
  admission: Admission;
  /** Bodies in flight: the request's Content-Length is taken before its body is read. */
  budget?: ByteBudget;
  /** The largest body this route takes. */
  maxBody: number;
  /** How long a response may take to be read once it starts. */
  sendTimeoutMs: number;
}

/**
 * The hooks of a route that does work for one request, run after authentication and before its
 * body is read: a slot on the route (and of its client's share), the body's bytes from the
 * in-flight budget (a Content-Length that cannot fit is refused before a byte of the body is
 * read), and a signal that stops the work when the client goes away or does not read the
 * response in time. All of it is given back when the response ends, however it ends.
 */
export function guard(options: GuardOptions): { onRequest: onRequestHookHandler; onSend: onSendHookHandler } {
  const onRequest: onRequestHookHandler = async (request, reply) => {
    const length = contentLength(request);
    if (length !== undefined && length > options.maxBody) {
      lingerThenClose(request, reply);
      throw new ImgfleetError('FILE_TOO_LARGE', `the request body is ${formatBytes(length)}, over the limit of ${formatBytes(options.maxBody)}`);
    }
    const release = options.admission.take(request.ip);
    let reserved = 0;
    const cleanups: (() => void)[] = [];
    const stop = new AbortController();
    const res = reply.raw;
    res.once('close', () => {
      release();
      options.budget?.release(reserved);
      for (const cleanup of cleanups) cleanup();
      if (!res.writableFinished) stop.abort(new ImgfleetError('CANCELLED', 'the client went away before the response was read'));
    });
    let bodyBytes = 0;
    const grow = (total: number) => {
      if (total <= bodyBytes || !options.budget) return;
      const more = total - bodyBytes;
      try {
        options.budget.take(more);
      } catch (error) {
        lingerThenClose(request, reply);
        throw error;
      }
      bodyBytes = total;
      reserved += more;
    };
    const hold = (bytes: number) => {
      options.budget?.hold(bytes);
      if (options.budget) reserved += bytes;
    };
    guarded.set(request, { signal: stop.signal, account: { grow: (total) => grow(total), onDone: (cleanup) => cleanups.push(cleanup), hold } });
    if (length !== undefined) grow(length);
  };
  const onSend: onSendHookHandler = async (_request, reply, payload) => {
    const res = reply.raw;
    const timer = setTimeout(() => res.destroy(), options.sendTimeoutMs);
    timer.unref();
    res.once('close', () => clearTimeout(timer));
    return payload;
  };
  return { onRequest, onSend };
}

/** The signal that stops a guarded request's work (none for other requests). */
export function workSignal(request: FastifyRequest): AbortSignal | undefined {
  return guarded.get(request)?.signal;
}

/** Where a guarded request's body is counted. */
export function bodyAccount(request: FastifyRequest): BodyAccount | undefined {
  return guarded.get(request)?.account;
}

function contentLength(request: FastifyRequest): number | undefined {
  const header = request.headers['content-length'];
  if (header === undefined) return undefined;
  const length = Number(header);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

/** How long a refused body may go on arriving (discarded) so that its client reads the refusal. */
const LINGER_MS = 2000;

/**
 * After a refusal sent before the body was read, the rest of the body is discarded as it
 * arrives for a moment, then the connection is closed: closed at once, the client (still
 * sending) would get a reset instead of the answer.
 */
function lingerThenClose(request: FastifyRequest, reply: FastifyReply): void {
  const raw = request.raw;
  reply.raw.once('finish', () => {
    if (raw.complete) return;
    raw.resume();
    const timer = setTimeout(() => raw.socket?.destroy(), LINGER_MS);
    timer.unref();
    raw.once('end', () => clearTimeout(timer));
  });
}
