import { createHash } from 'node:crypto';
import { ImgfleetError } from '../../errors.js';

/** One object in a bucket. */
export interface ObjectRef {
  bucket: string;
  key: string;
}

/** A bucket and a key prefix: where a batch lists its inputs, writes its outputs, or a worker may read and write. */
export interface ObjectPrefix {
  bucket: string;
  /** Empty for the whole bucket, else ending in `/` when it names a folder. */
  prefix: string;
}

export function isObjectUrl(text: string): boolean {
  return /^s3:\/\//i.test(text);
}

/** `s3://bucket/some/prefix/` → { bucket, prefix: 'some/prefix/' }. */
export function parseObjectUrl(text: string, what = 'object URL'): ObjectPrefix {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/i.exec(text);
  if (!match) throw new ImgfleetError('BAD_USAGE', `${what} ${text}: expected s3://bucket/prefix/`);
  const [, bucket, prefix = ''] = match;
  if (!/^[a-z0-9][a-z0-9.\-_]{1,254}$/i.test(bucket)) throw new ImgfleetError('BAD_USAGE', `${what} ${text}: "${bucket}" is not a bucket name`);
  if (prefix !== '' && !plainKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix)) {
    throw new ImgfleetError('BAD_USAGE', `${what} ${text}: a key is plain names separated by /, without empty, . or .. parts`);
  }
  return { bucket, prefix };
}

export function objectUrl(ref: ObjectRef | ObjectPrefix): string {
  return `s3://${ref.bucket}/${'key' in ref ? ref.key : ref.prefix}`;
}

/**
 * A key imgfleet reads or writes: names separated by `/`, none empty, `.` or `..` (an HTTP
 * client would fold those, and a key could escape its prefix), no control characters, at most
 * 1,024 bytes as S3 allows.
 */
export function plainKey(key: string): boolean {
  if (key.length === 0 || Buffer.byteLength(key) > 1024 || /[\u0000-\u001f\u007f\\]/.test(key)) return false;
  return key.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/** Whether an object lies inside one of the prefixes (a bucket and a key prefix that ends a name). */
export function insidePrefixes(ref: ObjectRef, prefixes: readonly ObjectPrefix[]): boolean {
  return plainKey(ref.key) && prefixes.some((p) => p.bucket === ref.bucket && ref.key.startsWith(p.prefix) && (p.prefix === '' || p.prefix.endsWith('/') || ref.key[p.prefix.length] === '/'));
}

/**
 * The content address of an object, without reading it: its bucket, key, ETag and size. A
 * store changes the ETag whenever an object is written (for a plain upload it is the MD5 of
 * the bytes), so a rewritten object gets a new address and so new results; the same bytes
 * under two keys are kept twice, which costs space, never a wrong result.
 */
export function objectDigest(ref: ObjectRef, etag: string, size: number): string {
  return createHash('sha256').update(`s3\n${ref.bucket}\n${ref.key}\n${etag}\n${size}`).digest('hex');
}
