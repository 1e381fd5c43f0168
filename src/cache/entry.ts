import type { ProcessStats } from '../pipeline/process.js';
import type { Outcome } from '../task/task.js';
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

/** The entry for a computed result: its data as JSON, or the image's bytes (read from wherever they went). */
export function entryOf(outcome: Extract<Outcome, { ok: true }>, body: Buffer | undefined): CacheEntry | undefined {
  const { input } = outcome.stats;
  if (outcome.data !== undefined) return { meta: { kind: 'data', input }, body: Buffer.from(JSON.stringify(outcome.data)) };
  const { output } = outcome;
  if (!output || !body || output.format === 'raw') return undefined;
  return { meta: { kind: 'image', format: output.format, width: output.width, height: output.height, input }, body };
}

/** The stats of a result served from the cache: the source it was made from, and no work. */
export function cachedStats(meta: EntryMeta): ProcessStats {
  return { input: meta.input, path: 'cache', probeMs: 0, steps: [], encodeMs: 0, totalMs: 0 };
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
