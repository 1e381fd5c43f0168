import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { ImgfleetError, toErrorInfo, type ErrorCode, type ErrorInfo } from '../errors.js';
import type { Duplex } from 'node:stream';

/** Fastify's and its plugins' own errors, in imgfleet's terms. */
const FRAMEWORK_CODES: Record<string, ErrorCode> = {
  FST_REQ_FILE_TOO_LARGE: 'FILE_TOO_LARGE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'FILE_TOO_LARGE',
  FST_FILES_LIMIT: 'TOO_MANY_FILES',
  FST_PARTS_LIMIT: 'TOO_MANY_FILES',
  FST_FIELDS_LIMIT: 'BAD_USAGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_FORMAT',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'UNSUPPORTED_FORMAT',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_USAGE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_USAGE',
};

export interface ErrorBody {
  error: ErrorInfo & { requestId?: string };
}

/**
 * What a client is told of an error: its code and a message without the server's internals;
 * when the log holds more (a 5xx, a message cut short), the request's id to find it there.
 */
export function errorBody(error: unknown, requestId?: string): { status: number; body: ErrorBody } {
  const { status, info } = classify(error);
  const moreInLog = status >= 500 || info.message !== (error as Error)?.message;
  return { status, body: { error: { ...info, ...(requestId && moreInLog ? { requestId } : {}) } } };
}

function classify(error: unknown): { status: number; info: ErrorInfo } {
  if (error instanceof ImgfleetError) {
    return { status: error.status, info: { code: error.code, message: publicMessage(error.code, error.message) } };
  }
  const fastifyError = error as FastifyError;
  // The client went away while its body was arriving: nobody reads the answer.
  if (fastifyError.code === 'ECONNRESET' || fastifyError.message === 'aborted') return { status: 499, info: { code: 'CANCELLED', message: 'the client went away' } };
  const mapped = fastifyError.code ? FRAMEWORK_CODES[fastifyError.code] : undefined;
  if (mapped) {
    const message = mapped === 'UNSUPPORTED_FORMAT'
      ? 'send the image as multipart/form-data (field "file") or as the raw request body (Content-Type image/* or application/octet-stream)'
      : fastifyError.message;
    const known = new ImgfleetError(mapped, message);
    return { status: known.status, info: toErrorInfo(known) };
  }
  const status = fastifyError.statusCode ?? 500;
  if (fastifyError.validation) return { status: 400, info: { code: 'BAD_USAGE', message: publicMessage('BAD_USAGE', fastifyError.message) } };
  if (status >= 400 && status < 500) return { status, info: { code: 'BAD_USAGE', message: publicMessage('BAD_USAGE', fastifyError.message) } };
  return { status: 500, info: { code: 'INTERNAL', message: INTERNAL_MESSAGE } };
}

const INTERNAL_MESSAGE = 'internal error (the server log has the details, under this request id)';

/**
 * A message fit for a client: never an internal fault's text (it may name paths or libraries),
 * never a decoder's own words (libvips' allocator and file names), never a path on the server.
 */
export function publicMessage(code: ErrorCode, message: string): string {
  if (code === 'INTERNAL') return INTERNAL_MESSAGE;
  if (code === 'CORRUPT_IMAGE') return 'corrupt or truncated image: the decoder could not read it';
  if (code === 'BAD_ORIGIN') return message.startsWith('origin answered') ? message : 'the image source could not be fetched';
  return message.replace(/(^|[\s"'(=:])(\/[^\s"'),;]+)/g, (_all, before: string, path: string) => `${before}${path.slice(path.lastIndexOf('/') + 1) || '…'}`);
}

/** Errors as `{ "error": { "code", "message", "requestId" } }` with the status that fits; details only in the log. */
export function installErrorHandler(app: FastifyInstance, log: (line: string) => void): void {
  app.setErrorHandler((error, request, reply) => {
    const { status, body } = errorBody(error, request.id);
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      log(`request ${request.id} ${request.method} ${path(request)}: ${detail(error)}`);
    } else if (body.error.message !== (error as Error).message) {
      request.log.info({ err: error }, 'request refused');
    }
    if (status === 429) reply.header('Retry-After', '1');
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${path(request)}`.slice(0, 300) } });
  });
}

function path(request: FastifyRequest): string {
  return request.url.split('?')[0];
}

function detail(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`.replace(/\s+/g, ' ');
}

/**
 * Requests Node's HTTP parser refuses before any route sees them get the API's JSON error too:
 * headers and URL over Node's 16 KiB (a long pipeline in the query), a body that does not
 * arrive in time, a request that is not HTTP.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, message] = error.code === 'HPE_HEADER_OVERFLOW'
    ? [431, 'Request Header Fields Too Large', 'the request\'s headers and URL are over 16 KiB: send a long pipeline in the body (multipart field "pipeline")']
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'the request did not arrive in time']
      : [400, 'Bad Request', 'not a well-formed HTTP request'];
  const body = JSON.stringify({ error: { code: status === 408 ? 'TIMEOUT' : 'BAD_USAGE', message } });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}
