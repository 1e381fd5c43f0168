import type { FastifyError, FastifyInstance } from 'fastify';
import { ImgfleetError, toErrorInfo, type ErrorCode, type ErrorInfo } from '../errors.js';

/** Fastify's and its plugins' own errors, in imgfleet's terms. */
const FRAMEWORK_CODES: Record<string, ErrorCode> = {
  FST_REQ_FILE_TOO_LARGE: 'FILE_TOO_LARGE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'FILE_TOO_LARGE',
  FST_FILES_LIMIT: 'TOO_MANY_FILES',
  FST_PARTS_LIMIT: 'TOO_MANY_FILES',
  FST_FIELDS_LIMIT: 'BAD_USAGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_FORMAT',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'UNSUPPORTED_FORMAT',
};

export interface ErrorBody {
  error: ErrorInfo;
}

export function errorBody(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof ImgfleetError) {
    // An internal fault's message may name paths or libraries: the log has it, the client does not.
    if (error.code === 'INTERNAL') return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } };
    return { status: error.status, body: { error: toErrorInfo(error) } };
  }
  const fastifyError = error as FastifyError;
  const mapped = fastifyError.code ? FRAMEWORK_CODES[fastifyError.code] : undefined;
  if (mapped) {
    const message = mapped === 'UNSUPPORTED_FORMAT'
      ? 'send the image as multipart/form-data (field "file") or as the raw request body (Content-Type image/* or application/octet-stream)'
      : fastifyError.message;
    const known = new ImgfleetError(mapped, message);
    return { status: known.status, body: { error: toErrorInfo(known) } };
  }
  const status = fastifyError.statusCode ?? 500;
  if (fastifyError.validation) return { status: 400, body: { error: { code: 'BAD_USAGE', message: fastifyError.message } } };
  if (status >= 400 && status < 500) return { status, body: { error: { code: 'BAD_USAGE', message: fastifyError.message } } };
  // A 5xx says nothing of the internals; the log has the details.
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } };
}

/** Errors as `{ "error": { "code", "message" } }` with the status that fits; 5xx details only in the log. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const { status, body } = errorBody(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    if (status === 429) reply.header('Retry-After', '1');
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
  });
}
