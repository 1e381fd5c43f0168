import { ImgfleetError } from '../errors.js';
import { CONTENT_TYPES } from '../image/encode.js';
import type { S3Client } from '../sources/s3/s3-client.js';
import type { ObjectPrefix, ObjectRef } from '../sources/s3/object-url.js';
import type { CacheEntry, EntryMeta } from './entry.js';
import { KEY_PATTERN, type ResultCache } from './result-cache.js';

/** The entry's metadata travels as one x-amz-meta header: JSON in base64url (header values are ASCII). */
const META = 'imgfleet';

/**
 * Results as objects under `s3://bucket/prefix/<first two hex digits>/<key>`, shared by every
 * server and batch of a fleet that names the same prefix. The object is the result itself (an
 * image, or a data result's JSON), with what the cache knows about it in its metadata.
 *
 * It keeps no byte budget: a fleet's processes cannot agree on one without listing the bucket,
 * so the bucket's lifecycle rules expire old entries (see the README). An object sink's result
 * goes in and out by a server-side copy, so its bytes never pass through the submitter.
 */
export class S3Cache implements ResultCache {
  readonly kind = 's3';

  /** `budgetBytes`: the largest entry it keeps. */
  constructor(private readonly store: S3Client, private readonly where: ObjectPrefix, readonly budgetBytes: number) {}

  async get(key: string): Promise<CacheEntry | undefined> {
    if (!KEY_PATTERN.test(key)) return undefined;
    try {
      const { body, head } = await this.store.get(this.objectOf(key), this.budgetBytes);
      const meta = decodeMeta(head.metadata[META]);
      return meta ? { meta, body } : undefined;
    } catch (error) {
      if (error instanceof ImgfleetError && (error.code === 'NOT_FOUND' || error.code === 'EMPTY_FILE')) return undefined;
      throw error;
    }
  }

  async put(key: string, entry: CacheEntry): Promise<number> {
    if (!KEY_PATTERN.test(key) || entry.body.length > this.budgetBytes) return 0;
    await this.store.put(this.objectOf(key), entry.body, this.putOptions(entry.meta));
    return 0;
  }

  /** Copies a kept result to an object of the same store, without reading it; its metadata and size, or undefined when it is not kept. */
  async copyTo(key: string, to: ObjectRef): Promise<{ meta: EntryMeta; bytes: number } | undefined> {
    if (!KEY_PATTERN.test(key)) return undefined;
    const from = this.objectOf(key);
    try {
      const head = await this.store.head(from);
      const meta = decodeMeta(head.metadata[META]);
      if (!meta) return undefined;
      await this.store.copy(from, to, { contentType: this.putOptions(meta).contentType });
      return { meta, bytes: head.size };
    } catch (error) {
      if (error instanceof ImgfleetError && error.code === 'NOT_FOUND') return undefined;
      throw error;
    }
  }

  /** Keeps a result that an object of the same store holds, by a server-side copy. */
  async copyFrom(key: string, from: ObjectRef, meta: EntryMeta): Promise<void> {
    if (KEY_PATTERN.test(key)) await this.store.copy(from, this.objectOf(key), this.putOptions(meta));
  }

  /** Unknown without listing the bucket: the lifecycle rules keep it bounded. */
  async storedBytes(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {}

  private objectOf(key: string): ObjectRef {
    const prefix = this.where.prefix === '' || this.where.prefix.endsWith('/') ? this.where.prefix : `${this.where.prefix}/`;
    return { bucket: this.where.bucket, key: `${prefix}${key.slice(0, 2)}/${key}` };
  }

  private putOptions(meta: EntryMeta) {
    return {
      contentType: meta.kind === 'data' ? 'application/json' : meta.format ? CONTENT_TYPES[meta.format] : undefined,
      metadata: { [META]: Buffer.from(JSON.stringify(meta)).toString('base64url') },
    };
  }
}

function decodeMeta(value: string | undefined): EntryMeta | undefined {
  if (!value) return undefined;
  try {
    const meta = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as EntryMeta;
    return meta.kind === 'image' || meta.kind === 'data' ? meta : undefined;
  } catch {
    return undefined;
  }
}
