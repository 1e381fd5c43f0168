import { createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import { ImgfleetError } from '../errors.js';
import { formatBytes, type Limits } from '../limits.js';
import { safeFileNames } from './file-names.js';
import { MAX_LOGOS, type UploadedLogo } from './logos.js';

const FIELD_BYTES = 64 * 1024;

export interface ImageUpload {
  name: string;
  bytes: Buffer;
  /** Text fields sent with it (multipart), e.g. `pipeline`. */
  fields: Record<string, string>;
  /** Logos sent with it (multipart field `logo`) for its watermark steps. */
  logos: UploadedLogo[];
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
    return { name: name ?? 'image', bytes: body, fields: {}, logos: [] };
  }
  let file: { name: string; bytes: Buffer } | undefined;
  const fields: Record<string, string> = {};
  const logos: UploadedLogo[] = [];
  const parts = request.parts({ limits: { files: 1 + MAX_LOGOS, fileSize: limits.maxFileBytes, fields: 16, fieldSize: FIELD_BYTES } });
  for await (const part of parts) {
    if (part.type === 'file') {
      const bytes = await part.toBuffer();
      if (part.fieldname === 'logo') {
        logos.push(logoPart(part.filename, bytes, logos.length));
        continue;
      }
      if (part.fieldname !== 'file') throw new ImgfleetError('BAD_USAGE', `unexpected file field "${part.fieldname}": send the image as "file" (and logos as "logo")`);
      if (file) throw new ImgfleetError('TOO_MANY_FILES', 'one image per request: send more as a job (POST /v1/jobs)');
      file = { name: part.filename || 'image', bytes };
    } else {
      fields[part.fieldname] = String(part.value);
    }
  }
  if (!file) throw new ImgfleetError('BAD_USAGE', 'no image in the request: send it as multipart field "file"');
  return { ...file, fields, logos };
}

function logoPart(filename: string, bytes: Buffer, already: number): UploadedLogo {
  if (already >= MAX_LOGOS) throw new ImgfleetError('TOO_MANY_FILES', `at most ${MAX_LOGOS} logos per request`);
  if (bytes.length === 0) throw new ImgfleetError('EMPTY_FILE', `logo "${filename}" is empty (0 bytes)`);
  return { name: filename || 'logo', bytes };
}

export interface SavedUpload {
  /** The sanitised, unique name. */
  name: string;
  path: string;
}

/**
 * Many images (multipart fields `file` or `files`), streamed to disk under `dir`, never held in
 * memory; and the logos sent for their watermark steps (field `logo`, at most a few, in memory).
 */
export async function saveImageUploads(request: FastifyRequest, dir: string, limits: Limits, maxFiles: number): Promise<{ files: SavedUpload[]; fields: Record<string, string>; logos: UploadedLogo[] }> {
  if (!request.isMultipart()) throw new ImgfleetError('BAD_USAGE', 'send the images as multipart/form-data, one "file" field each');
  await mkdir(dir, { recursive: true });
  const raw: { name: string; path: string }[] = [];
  const fields: Record<string, string> = {};
  const logos: UploadedLogo[] = [];
  const parts = request.parts({ limits: { files: maxFiles + MAX_LOGOS, fileSize: limits.maxFileBytes, fields: 16, fieldSize: FIELD_BYTES } });
  for await (const part of parts) {
    if (part.type === 'file' && part.fieldname === 'logo') {
      const bytes = await part.toBuffer();
      logos.push(logoPart(part.filename, bytes, logos.length));
    } else if (part.type === 'file') {
      if (raw.length >= maxFiles) throw new ImgfleetError('TOO_MANY_FILES', `at most ${maxFiles} images per job`);
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
  return { files, fields, logos };
}
