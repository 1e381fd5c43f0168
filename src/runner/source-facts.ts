import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { readHead } from '../io/read-head.js';
import { loadSharp } from '../image/sharp-module.js';
import { ImgfleetError } from '../errors.js';
import { readJpegHeader } from '../image/jpeg-header.js';
import { quickHeader } from '../image/quick-header.js';
import { readFileLimited } from '../io/read-file.js';
import { LANE_HEAD_BYTES } from '../pipeline/lane.js';
import type { Size } from '../ops/types.js';
import { objectDigest } from '../sources/s3/object-url.js';
import type { S3Client } from '../sources/s3/s3-client.js';
import type { ImageRequest } from './request.js';

/** Files at most this large are hashed in one read; larger ones are streamed. */
const READ_WHOLE_BYTES = 16 * 1024 * 1024;

/**
 * The SHA-256 of a request's source (hex), for its result's content address. An object in a
 * store is not read: its address comes from its ETag and size (from its listing, or a HEAD).
 */
export async function sourceDigest(source: ImageRequest['source'], maxBytes: number, store?: S3Client): Promise<string> {
  if (source.kind === 'store') return source.source.digest;
  if (source.kind === 'object') {
    const ref = { bucket: source.bucket, key: source.key };
    if (source.etag !== undefined && source.size !== undefined) return objectDigest(ref, source.etag, source.size);
    const head = await needStore(store).head(ref);
    return objectDigest(ref, head.etag, head.size);
  }
  if (source.kind === 'bytes') return createHash('sha256').update(source.bytes).digest('hex');
  const size = fileSize(source.path);
  // Small files, and any the read would refuse (missing, too large), in one read that says why.
  if (size === undefined || size <= READ_WHOLE_BYTES || size > maxBytes) {
    return createHash('sha256').update(readFileLimited(source.path, maxBytes)).digest('hex');
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(source.path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The first bytes of a request's source: enough for its header and its lane. */
export async function sourceHead(source: ImageRequest['source'], store?: S3Client): Promise<Uint8Array> {
  if (source.kind === 'store') return source.source.head();
  if (source.kind === 'object') return needStore(store).getHead({ bucket: source.bucket, key: source.key }, LANE_HEAD_BYTES);
  if (source.kind === 'bytes') return source.bytes.subarray(0, LANE_HEAD_BYTES);
  return readHead(source.path);
}

/**
 * Width and height from the header alone, cheaply since every image of a batch may be asked: a
 * JPEG's, PNG's or still WebP's first bytes are parsed here; anything else asks libvips. Undefined when it
 * cannot be read (the run itself then reports why).
 */
export async function headerSize(source: ImageRequest['source'], head: Uint8Array): Promise<HeaderSize | undefined> {
  const bytes = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  // The usual JPEG, PNG or still WebP, parsed once; a JPEG or PNG it leaves (CMYK, an animation) is read below.
  const quick = quickHeader(bytes);
  if (quick) return quick.format === 'webp' ? { width: quick.width, height: quick.height, format: 'webp', frames: 1 } : { width: quick.width, height: quick.height };
  const jpeg = readJpegHeader(bytes);
  if (jpeg) return { width: jpeg.width, height: jpeg.height };
  if (bytes.length >= 24 && bytes.readUInt32BE(0) === PNG_SIGNATURE && bytes.toString('latin1', 12, 16) === 'IHDR') {
    return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  }
  // An object is read only as far as its head: a header that its first bytes do not hold is read where it runs.
  if (source.kind === 'object') return undefined;
  try {
    const input = source.kind === 'file' ? source.path : source.kind === 'bytes' ? Buffer.from(source.bytes.buffer, source.bytes.byteOffset, source.bytes.byteLength) : await source.source.bytes();
    const { width, height, format, pages } = await loadSharp()(input, { limitInputPixels: false }).metadata();
    return width && height ? { width, height, format, frames: pages ?? 1 } : undefined;
  } catch {
    return undefined;
  }
}

const PNG_SIGNATURE = 0x89504e47;

/** A header's size; for formats libvips reads, its format and frames (pages) too. */
export interface HeaderSize extends Size {
  format?: string;
  frames?: number;
}

function needStore(store: S3Client | undefined): S3Client {
  if (!store) throw new ImgfleetError('INTERNAL', 'an object source needs the runner to have the object store');
  return store;
}

function fileSize(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}
