import { createHash } from 'node:crypto';
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

/**
 * One value on disk or in Redis: the metadata's length (4 bytes, big-endian), the metadata as
 * JSON, the body. The metadata names the entry's key and the SHA-256 of its body, so an entry
 * read back is served only if it is whole and is the one asked for, never one renamed, cut
 * short or planted under another key.
 */
export function encodeEntry(entry: CacheEntry, key: string): Buffer {
  const meta = Buffer.from(JSON.stringify({ ...entry.meta, key, sha256: sha256(entry.body) }));
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(meta.length);
  return Buffer.concat([head, meta, entry.body]);
}

export function decodeEntry(value: Buffer, key: string): CacheEntry | undefined {
  if (value.length < 4) return undefined;
  const metaEnd = 4 + value.readUInt32BE(0);
  if (metaEnd > value.length) return undefined;
  try {
    const { key: stored, sha256: digest, ...meta } = JSON.parse(value.subarray(4, metaEnd).toString('utf8')) as EntryMeta & { key?: string; sha256?: string };
    const body = value.subarray(metaEnd);
    if (stored !== key || digest !== sha256(body)) return undefined;
    return { meta, body };
  } catch {
    return undefined;
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
