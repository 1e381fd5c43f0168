import type { ProcessResult, ProcessStats } from '../pipeline/process.js';
import type { OutputFormat } from '../pipeline/spec.js';

/** What a cached result says about itself; its bytes are the image, or the JSON of a data result. */
export interface EntryMeta {
  kind: 'image' | 'data';
  format?: OutputFormat;
  width?: number;
  height?: number;
  /** The source's header as the computation saw it, for reports of cached items. */
  input: ProcessStats['input'];
}

export interface CacheEntry {
  meta: EntryMeta;
  body: Buffer;
}

export function entryOf(result: ProcessResult): CacheEntry {
  const { input } = result.stats;
  if (result.kind === 'data') return { meta: { kind: 'data', input }, body: Buffer.from(JSON.stringify(result.data)) };
  return { meta: { kind: 'image', format: result.format, width: result.width, height: result.height, input }, body: result.data };
}

/** One value on disk or in Redis: the metadata's length (4 bytes, big-endian), the metadata as JSON, the body. */
export function encodeEntry(entry: CacheEntry): Buffer {
  const meta = Buffer.from(JSON.stringify(entry.meta));
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(meta.length);
  return Buffer.concat([head, meta, entry.body]);
}

export function decodeEntry(value: Buffer): CacheEntry | undefined {
  if (value.length < 4) return undefined;
  const metaEnd = 4 + value.readUInt32BE(0);
  if (metaEnd > value.length) return undefined;
  try {
    return { meta: JSON.parse(value.subarray(4, metaEnd).toString('utf8')) as EntryMeta, body: value.subarray(metaEnd) };
  } catch {
    return undefined;
  }
}
