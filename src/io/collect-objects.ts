import { basename, extname } from 'node:path';
import picomatch from 'picomatch';
import { ImgfleetError } from '../errors.js';
import { EXTENSIONS, keptExtension } from '../image/encode.js';
import type { OutputFormat } from '../pipeline/spec.js';
import type { S3Client } from '../sources/s3/s3-client.js';
import { objectUrl, parseObjectUrl, plainKey, type ObjectPrefix } from '../sources/s3/object-url.js';
import type { ObjectSink, ObjectSource } from '../task/task.js';
import { IMAGE_EXTENSIONS, notAnImage, type SkippedFile } from './collect-inputs.js';

/** An image found in a bucket: the object (with the ETag and size its listing gave), and its key relative to the prefix listed. */
export interface ObjectInput {
  source: ObjectSource;
  relative: string;
}

/**
 * The images under `s3://bucket/prefix/`, listed a page of 1,000 keys at a time, in key order:
 * every image (by extension), or the keys whose part after the prefix matches `pattern`. A URL
 * not ending in `/` names one object, or else the prefix of that name with a `/` added.
 */
export async function collectObjects(store: S3Client, url: string, pattern?: string): Promise<{ files: ObjectInput[]; skipped: SkippedFile[] }> {
  const where = parseObjectUrl(url, 'input');
  const files: ObjectInput[] = [];
  const skipped: SkippedFile[] = [];
  const single = where.prefix !== '' && !where.prefix.endsWith('/');
  const folder: ObjectPrefix = single ? { bucket: where.bucket, prefix: `${where.prefix}/` } : where;
  const matches = pattern ? picomatch(pattern.includes('/') ? pattern : `**/${pattern}`, { nocase: true, dot: true }) : undefined;
  try {
    for await (const page of store.list(where)) {
      for (const object of page) {
        const source: ObjectSource = { kind: 'object', bucket: where.bucket, key: object.key, etag: object.etag, size: object.size };
        if (single && object.key === where.prefix) {
          files.push({ source, relative: basename(object.key) });
          continue;
        }
        if (!object.key.startsWith(folder.prefix) || object.key.endsWith('/')) continue;
        const relative = object.key.slice(folder.prefix.length);
        if (!plainKey(object.key)) skipped.push({ path: objectUrl(source), reason: 'a key with empty, . or .. parts' });
        else if (matches ? matches(relative) : isImageKey(relative)) files.push({ source, relative });
        else if (!matches) skipped.push({ path: objectUrl(source), reason: notAnImage(relative) });
      }
    }
  } catch (error) {
    // A missing bucket or refused credentials is a mistake in the command: one line, exit 2.
    if (error instanceof ImgfleetError && (error.code === 'NOT_FOUND' || error.code === 'FORBIDDEN')) throw new ImgfleetError('BAD_USAGE', error.message);
    throw error;
  }
  if (files.length === 0) throw new ImgfleetError('BAD_USAGE', `no images found in ${url}${pattern ? ` matching ${pattern}` : ''}`);
  return { files, skipped };
}

function isImageKey(key: string): boolean {
  return IMAGE_EXTENSIONS.includes(extname(key).slice(1).toLowerCase());
}

/**
 * Output objects that mirror the inputs' relative keys under `out`, with the output format's
 * extension. Refuses, before any work starts, an output key that is an input's key, and two
 * inputs writing one output.
 */
export function planObjectOutputs(inputs: { relative: string; input: string }[], out: ObjectPrefix, format: OutputFormat | undefined, inputUrls: Set<string>): ObjectSink[] {
  const claimed = new Map<string, string>();
  const base = out.prefix === '' || out.prefix.endsWith('/') ? out.prefix : `${out.prefix}/`;
  const newExtension = format && EXTENSIONS[format];
  return inputs.map((input) => {
    // Relative keys are plain names joined by /: the extension is the only part that changes.
    const dot = input.relative.lastIndexOf('.');
    const stem = dot > input.relative.lastIndexOf('/') + 1 ? input.relative.slice(0, dot) : input.relative;
    const sink: ObjectSink = { kind: 'object', bucket: out.bucket, key: `${base}${stem}${newExtension ?? keptExtension(input.relative.slice(stem.length))}` };
    const url = objectUrl(sink);
    if (inputUrls.has(url)) throw new ImgfleetError('BAD_USAGE', `refusing to overwrite input ${url}: choose another output prefix`);
    const other = claimed.get(url);
    if (other) throw new ImgfleetError('BAD_USAGE', `${other} and ${input.input} would both write ${url}`);
    claimed.set(url, input.input);
    return sink;
  });
}
