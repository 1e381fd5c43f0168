import { createHash } from 'node:crypto';
import { LANE_HEAD_BYTES } from '../pipeline/lane.js';

/** One source, known by the SHA-256 of its bytes; the bytes themselves are read only when needed. */
export interface Source {
  /** SHA-256 of the bytes, in hex. */
  digest: string;
  /** The first bytes (64 KiB, or all of a smaller source): its header and lane, without reading it all. */
  head(): Promise<Uint8Array>;
  bytes(): Promise<Buffer>;
}

/** Where image URLs find their sources: a key (the URL's last part) → the source. */
export interface SourceStore {
  /** `folder` or `http`. */
  readonly kind: string;
  /** Throws NOT_FOUND, FORBIDDEN, FILE_TOO_LARGE, TIMEOUT or BAD_ORIGIN. */
  open(key: string): Promise<Source>;
  read(key: string): Promise<Buffer>;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A source already in memory. */
export function sourceOf(bytes: Buffer): Source {
  return { digest: sha256(bytes), head: async () => bytes.subarray(0, LANE_HEAD_BYTES), bytes: async () => bytes };
}

/** Every part of a key must be a plain name: no empty, `.` or `..` parts, no hidden files, no backslashes or NULs. */
export function keyParts(key: string): string[] | undefined {
  if (key.length === 0 || key.length > 1024 || /[\\\0]/.test(key)) return undefined;
  const parts = key.split('/');
  return parts.every((part) => part.length > 0 && !part.startsWith('.')) ? parts : undefined;
}
