/**
 * Every error imgfleet raises on purpose carries a stable code, the HTTP status a server should
 * answer with, and whether retrying could help. Bad input is never retryable.
 */
export type ErrorCode =
  | 'BAD_PIPELINE'
  | 'BAD_USAGE'
  | 'NOT_AN_IMAGE'
  | 'UNSUPPORTED_FORMAT'
  | 'CORRUPT_IMAGE'
  | 'EMPTY_FILE'
  | 'FILE_TOO_LARGE'
  | 'TOO_MANY_PIXELS'
  | 'OUTPUT_TOO_LARGE'
  | 'TOO_MUCH_WORK'
  | 'RESULT_TOO_LARGE'
  | 'STORAGE_FULL'
  | 'BAD_REGION'
  | 'NOT_TILEABLE'
  | 'TIMEOUT'
  | 'CANCELLED'
  | 'TOO_MANY_FILES'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'QUEUE_FULL'
  | 'BAD_ORIGIN'
  | 'REDIS_UNAVAILABLE'
  | 'STORE_UNAVAILABLE'
  | 'INTERNAL';

const STATUS: Record<ErrorCode, number> = {
  BAD_PIPELINE: 400,
  BAD_USAGE: 400,
  NOT_AN_IMAGE: 415,
  UNSUPPORTED_FORMAT: 415,
  CORRUPT_IMAGE: 415,
  EMPTY_FILE: 415,
  FILE_TOO_LARGE: 413,
  TOO_MANY_PIXELS: 422,
  OUTPUT_TOO_LARGE: 422,
  TOO_MUCH_WORK: 422,
  RESULT_TOO_LARGE: 413,
  STORAGE_FULL: 507,
  BAD_REGION: 400,
  NOT_TILEABLE: 422,
  TIMEOUT: 504,
  // nginx's "client closed request": nobody is left to read it.
  CANCELLED: 499,
  TOO_MANY_FILES: 413,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  QUEUE_FULL: 429,
  BAD_ORIGIN: 502,
  REDIS_UNAVAILABLE: 503,
  STORE_UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** Every code, in the order above: for the API's list of them and for interfaces that explain them. */
export const ERROR_CODES = Object.keys(STATUS) as ErrorCode[];

export function errorStatus(code: ErrorCode): number {
  return STATUS[code];
}

export class ImgfleetError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** True when the same input can never succeed, so a queue must not retry it. */
  readonly permanent: boolean;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'ImgfleetError';
    this.code = code;
    this.status = STATUS[code];
    this.permanent = isPermanent(code);
  }
}

/** Whether the same input can never succeed: everything but timeouts, a full queue or disk, an origin's, Redis's or the object store's fault and internal faults. */
export function isPermanent(code: ErrorCode): boolean {
  return code !== 'TIMEOUT' && code !== 'INTERNAL' && code !== 'QUEUE_FULL' && code !== 'BAD_ORIGIN' && code !== 'REDIS_UNAVAILABLE'
    && code !== 'STORAGE_FULL' && code !== 'STORE_UNAVAILABLE';
}

export function pipelineError(message: string): ImgfleetError {
  return new ImgfleetError('BAD_PIPELINE', message);
}

/** Plain data form of an error, safe to send through postMessage, Redis or HTTP. */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof ImgfleetError) return { code: error.code, message: error.message };
  if (isErrorInfo(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message };
}

export function fromErrorInfo(info: ErrorInfo): ImgfleetError {
  return new ImgfleetError(info.code, info.message);
}

function isErrorInfo(value: unknown): value is ErrorInfo {
  return typeof value === 'object' && value !== null && 'code' in value && 'message' in value
    && typeof (value as ErrorInfo).code === 'string' && (value as ErrorInfo).code in STATUS;
}
