import { extname } from 'node:path';
import { ImgfleetError } from '../errors.js';
import { CONTENT_TYPES, EXTENSIONS } from '../image/encode.js';
import type { S3Client } from '../sources/s3/s3-client.js';
import type { S3Settings } from '../sources/s3/s3-settings.js';
import { insidePrefixes, objectUrl, type ObjectPrefix, type ObjectRef } from '../sources/s3/object-url.js';
import type { TaskIo } from './task-io.js';

export interface ObjectIoOptions {
  /** An open client, which its owner closes. */
  store?: S3Client;
  /**
   * Or the store's settings: the client, and the signing code with it, is loaded when a task
   * first names an object. Most batches name none, and loading it cost each thread 20 ms.
   */
  s3?: S3Settings;
  /**
   * Objects only inside these prefixes (a cluster worker's --s3-root): keys in a task are data
   * from Redis, not commands. Without it, any object (the CLI's own).
   */
  roots?: ObjectPrefix[];
}

const TYPE_BY_EXTENSION = new Map([...Object.entries(EXTENSIONS).map(([format, ext]) => [ext, CONTENT_TYPES[format as keyof typeof CONTENT_TYPES]] as const), ['.jpeg', 'image/jpeg'], ['.tiff', 'image/tiff']]);

/** `io` that also reads and writes objects of a store, each inside the allowed prefixes. */
export function withObjects(io: TaskIo, options: ObjectIoOptions): TaskIo {
  const { store, s3, roots } = options;
  let opened: Promise<S3Client> | undefined;
  const allowed = (ref: ObjectRef, role: 'input' | 'output'): Promise<S3Client> => {
    if (!store && !s3) throw new ImgfleetError('FORBIDDEN', `this place has no object store for ${objectUrl(ref)} (a worker needs --s3-root s3://bucket/prefix/)`);
    if (roots && !insidePrefixes(ref, roots)) {
      throw new ImgfleetError('FORBIDDEN', roots.length === 0
        ? 'this worker takes no object keys (start it with --s3-root s3://bucket/prefix/)'
        : `${role} ${objectUrl(ref)} is outside the prefixes this worker may use (--s3-root)`);
    }
    opened ??= store ? Promise.resolve(store) : import('../sources/s3/s3-client.js').then(({ S3Client }) => new S3Client(s3!));
    return opened;
  };
  // What it does not override (a file's path for libvips, pathOf) is the wrapped place's own.
  return {
    ...io,
    async read(source, maxBytes) {
      if (source.kind !== 'object') return io.read(source, maxBytes);
      const ref = { bucket: source.bucket, key: source.key };
      return (await (await allowed(ref, 'input')).get(ref, maxBytes)).body;
    },
    async write(sink, bytes) {
      if (sink.kind !== 'object') return io.write(sink, bytes);
      const ref = { bucket: sink.bucket, key: sink.key };
      await (await allowed(ref, 'output')).put(ref, bytes, { contentType: TYPE_BY_EXTENSION.get(extname(sink.key).toLowerCase()) });
    },
    async checkSink(sink) {
      if (sink.kind !== 'object') return io.checkSink(sink);
      await allowed({ bucket: sink.bucket, key: sink.key }, 'output');
    },
  };
}
