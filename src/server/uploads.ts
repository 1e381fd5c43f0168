import { createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import { ImgfleetError } from '../errors.js';
import { formatBytes, type Limits } from '../limits.js';
import { safeFileNames } from './file-names.js';

const FIELD_BYTES = 64 * 1024;

export interface ImageUpload {
  name: string;
  bytes: Buffer;
  /** Text fields sent with it (multipart), e.g. `pipeline`. */
  fields: Record<string, string>;
}

/** One image: multipart field `file`, or the raw request body (`?name=` names it). */
export async function readImageUpload(request: FastifyRequest, limits: Limits): Promise<ImageUpload> {
  if (!request.isMultipart()) {
    const body = request.body;
    if (body !== undefined && body !== null && !Buffer.isBuffer(body)) {
      throw new ImgfleetError('UNSUPPORTED_FORMAT', `a ${request.headers['content-type']} body is not an image: send it as multipart field "file", or raw with Content-Type image/* or application/octet-stream`);
    }
    if (!body || body.length === 0) {
      throw new ImgfleetError('EMPTY_FILE', 'no image in the request: send it as multipart field "file" or as the raw body');
    }
    const { name } = request.query as { name?: string };
    return { name: name ?? 'image', bytes: body, fields: {} };
  }
  let file: { name: string; bytes: Buffer } | undefined;
  const fields: Record<string, string> = {};
  const parts = request.parts({ limits: { files: 1, fileSize: limits.maxFileBytes, fields: 16, fieldSize: FIELD_BYTES } });
  for await (const part of parts) {
    if (part.type === 'file') {
      const bytes = await part.toBuffer();
      if (part.fieldname !== 'file') throw new ImgfleetError('BAD_USAGE', `unexpected file field "${part.fieldname}": send the image as "file"`);
      file = { name: part.filename || 'image', bytes };
    } else {
      fields[part.fieldname] = String(part.value);
    }
  }
  if (!file) throw new ImgfleetError('BAD_USAGE', 'no image in the request: send it as multipart field "file"');
  return { ...file, fields };
}

export interface SavedUpload {
  /** The sanitised, unique name. */
  name: string;
  path: string;
}

/** Many images (multipart fields `file` or `files`), streamed to disk under `dir`, never held in memory. */
export async function saveImageUploads(request: FastifyRequest, dir: string, limits: Limits, maxFiles: number): Promise<{ files: SavedUpload[]; fields: Record<string, string> }> {
  if (!request.isMultipart()) throw new ImgfleetError('BAD_USAGE', 'send the images as multipart/form-data, one "file" field each');
  await mkdir(dir, { recursive: true });
  const raw: { name: string; path: string }[] = [];
  const fields: Record<string, string> = {};
  const parts = request.parts({ limits: { files: maxFiles, fileSize: limits.maxFileBytes, fields: 16, fieldSize: FIELD_BYTES } });
  for await (const part of parts) {
    if (part.type === 'file') {
      const path = join(dir, `upload-${raw.length}`);
      await pipeline(part.file, createWriteStream(path));
      if (part.file.truncated) {
        throw new ImgfleetError('FILE_TOO_LARGE', `${part.filename} is over the limit of ${formatBytes(limits.maxFileBytes)}`);
      }
      raw.push({ name: part.filename || 'image', path });
    } else {
      fields[part.fieldname] = String(part.value);
    }
  }
  if (raw.length === 0) throw new ImgfleetError('BAD_USAGE', 'no images in the request: send each as a multipart "file" field');
  const names = safeFileNames(raw.map((r) => r.name));
  const files = await Promise.all(raw.map(async (r, i) => {
    const path = join(dir, names[i]);
    await rename(r.path, path);
    return { name: names[i], path };
  }));
  return { files, fields };
}
