import { ImgfleetError } from '../../errors.js';
import { LANE_HEAD_BYTES } from '../../pipeline/lane.js';
import { keyParts, type Source, type SourceStore } from '../source-store.js';
import { objectDigest, objectUrl, type ObjectPrefix } from './object-url.js';
import type { S3Client } from './s3-client.js';

/**
 * Image URL sources in a bucket (`--source-s3 s3://bucket/prefix/`): a key names an object
 * under the prefix, as a relative path of plain names. A source's address comes from a HEAD
 * (its ETag and size), so a request whose result is cached never reads the image; the bytes
 * are read only to compute, and refused when the object changed since the HEAD.
 */
export class S3SourceStore implements SourceStore {
  readonly kind = 's3';

  constructor(private readonly store: S3Client, private readonly where: ObjectPrefix, private readonly maxBytes: number) {}

  async open(key: string): Promise<Source> {
    const parts = keyParts(key);
    if (!parts) throw new ImgfleetError('NOT_FOUND', `no source "${key}": a source is a relative path of plain names`);
    const prefix = this.where.prefix === '' || this.where.prefix.endsWith('/') ? this.where.prefix : `${this.where.prefix}/`;
    const ref = { bucket: this.where.bucket, key: `${prefix}${parts.join('/')}` };
    const head = await this.store.head(ref).catch((error: unknown) => {
      if (error instanceof ImgfleetError && error.code === 'NOT_FOUND') throw new ImgfleetError('NOT_FOUND', `no source "${key}"`);
      throw error;
    });
    if (head.size > this.maxBytes) throw new ImgfleetError('FILE_TOO_LARGE', `source "${key}" is over the limit of ${this.maxBytes} bytes`);
    return {
      digest: objectDigest(ref, head.etag, head.size),
      head: () => this.store.getHead(ref, LANE_HEAD_BYTES),
      bytes: async () => {
        const { body, head: now } = await this.store.get(ref, this.maxBytes);
        // Rewritten between the HEAD and the read: computing would store new pixels under the old address.
        if (now.etag !== head.etag) throw new ImgfleetError('BAD_ORIGIN', `source ${objectUrl(ref)} changed while it was read; try again`);
        return body;
      },
    };
  }

  async read(key: string): Promise<Buffer> {
    return (await this.open(key)).bytes();
  }
}
