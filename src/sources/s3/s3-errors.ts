import { ImgfleetError } from '../../errors.js';

/** What went wrong with one request to the store: its answer (status and S3 error code), or the connection's error (status 0). */
export interface Failure {
  status: number;
  code?: string;
  message?: string;
  /** An error status without an S3 error document: likely not an S3 endpoint at all. */
  nonS3?: boolean;
  error?: unknown;
}

const CREDENTIALS = 'check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';
const ENDPOINT = 'check --s3-endpoint or AWS_ENDPOINT_URL_S3';

/** One line a person can act on, for each way the store can fail. */
export function s3Failure(failure: Failure, what: string, bucket: string, where: string, tries: number): ImgfleetError {
  const { status, code } = failure;
  if (status === 0) return storeUnreachable(where, failure.error);
  if (code === 'NoSuchBucket') return new ImgfleetError('NOT_FOUND', `no bucket "${bucket}" at ${where}`);
  if (code === 'NoSuchKey' || (status === 404 && !failure.nonS3)) return new ImgfleetError('NOT_FOUND', `no object ${what}`);
  if (code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch' || code === 'InvalidToken' || code === 'ExpiredToken') {
    return new ImgfleetError('FORBIDDEN', `the object store at ${where} refused the credentials (${code}): ${CREDENTIALS}`);
  }
  if (status === 403) return new ImgfleetError('FORBIDDEN', `access denied to ${what} at ${where}${code ? ` (${code})` : ''}: ${CREDENTIALS}, and the bucket's policy`);
  if (failure.nonS3) return new ImgfleetError('STORE_UNAVAILABLE', `${where} answered HTTP ${status} without an S3 error: is it an S3 endpoint? (${ENDPOINT})`);
  if (status >= 500 || status === 429) {
    return new ImgfleetError('STORE_UNAVAILABLE', `the object store at ${where} answered ${status}${code ? ` (${code})` : ''} for ${what}${tries > 1 ? ` ${tries} times` : ''}`);
  }
  return new ImgfleetError('BAD_USAGE', `the object store refused ${what}: ${code ?? `HTTP ${status}`}${failure.message ? `: ${failure.message}` : ''}`);
}

export function storeUnreachable(where: string, error: unknown): ImgfleetError {
  if (error instanceof ImgfleetError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason = code === 'ECONNREFUSED' ? 'connection refused'
    : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'host not found'
      : code === 'ETIMEDOUT' ? 'no answer in time'
        : code === 'ECONNRESET' ? 'connection reset'
          : (error as Error | undefined)?.message ?? String(error);
  return new ImgfleetError('STORE_UNAVAILABLE', `cannot reach the object store at ${where}: ${reason} (${ENDPOINT})`);
}
