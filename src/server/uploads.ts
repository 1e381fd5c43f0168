import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import type { Multipart } from '@fastify/multipart';
import { ImgfleetError } from '../errors.js';
import { formatBytes, type Limits } from '../limits.js';
import type { DiskQuota } from './disk-quota.js';
import { safeFileNames } from './file-names.js';
import { MAX_LOGO_BYTES, MAX_LOGOS, type UploadedLogo } from './logos.js';
import { readBody, type ReadBody } from './request-body.js';
import { bodyAccount } from './request-guard.js';

/** The largest text field (a pipeline): longer ones are refused, never cut. */
export const FIELD_BYTES = 64 * 1024;
/** Text fields one upload may carry. */
export const MAX_FIELDS = 16;

/** The most a single-image request's body may be: the image, its logos, its fields and the multipart framing. */
export function maxSingleBody(limits: Limits): number {
  return limits.maxFileBytes + MAX_LOGOS * MAX_LOGO_BYTES + MAX_FIELDS * FIELD_BYTES + 64 * 1024;
}

export interface ImageUpload {
  name: string;
  /** The image: in memory, or in a temporary file when it is large (removed when the response ends). */
  source: ReadBody;
  /** Text fields sent with it (multipart), e.g. `pipeline`. */
  fields: Record<string, string>;
  /** Logos sent with it (multipart field `logo`) for its watermark steps. */
  logos: UploadedLogo[];
}

export interface UploadPlace {
  limits: Limits;
  /** Where a large image waits while it is worked on. */
  spillDir: string;
  spillAbove: number;
}

/** One image: multipart field `file`, or the raw request body (`?name=` names it). */
export async function readImageUpload(request: FastifyRequest, place: UploadPlace): Promise<ImageUpload> {
  const { limits } = place;
  const read = (stream: Readable, what: string) => readBody(stream, {
    maxBytes: limits.maxFileBytes, what, account: bodyAccount(request), spillAbove: place.spillAbove, spillDir: place.spillDir,
  });
  if (!request.isMultipart()) {
    const body = request.body as Readable | undefined | null;
    if (body === undefined || body === null || typeof (body as Readable).pipe !== 'function') {
      throw new ImgfleetError('UNSUPPORTED_FORMAT', `${request.headers['content-type'] ? `a body of type ${request.headers['content-type']}` : 'a body without a Content-Type'} is not an image: send it as multipart field "file", or raw with Content-Type image/* or application/octet-stream`);
    }
    const source = await read(body, 'the image');
    if (source.kind === 'bytes' && source.bytes.length === 0) {
      throw new ImgfleetError('EMPTY_FILE', 'no image in the request: send it as multipart field "file" or as the raw body');
    }
    const { name } = request.query as { name?: string };
    return { name: name ?? 'image', source, fields: {}, logos: [] };
  }
  let file: { name: string; source: ReadBody } | undefined;
  const fields: Record<string, string> = {};
  const logos: UploadedLogo[] = [];
  await readParts(request, 1 + MAX_LOGOS, limits.maxFileBytes, async (part) => {
    if (part.type === 'file') {
      if (part.fieldname === 'logo') {
        logos.push(logoPart(part.filename, await readLogo(part.file, part.filename), logos.length));
        return;
      }
      if (part.fieldname !== 'file') throw new ImgfleetError('BAD_USAGE', `unexpected file field "${part.fieldname}": send the image as "file" (and logos as "logo")`);
      if (file) throw new ImgfleetError('TOO_MANY_FILES', 'one image per request: send more as a job (POST /v1/jobs)');
      file = { name: part.filename || 'image', source: await read(part.file, `"${part.filename || 'image'}"`) };
    } else {
      fields[part.fieldname] = fieldValue(part);
    }
  });
  if (!file) throw new ImgfleetError('BAD_USAGE', 'no image in the request: send it as multipart field "file"');
  return { ...file, fields, logos };
}

function logoPart(filename: string, bytes: Buffer, already: number): UploadedLogo {
  if (already >= MAX_LOGOS) throw new ImgfleetError('TOO_MANY_FILES', `at most ${MAX_LOGOS} logos per request`);
  if (bytes.length === 0) throw new ImgfleetError('EMPTY_FILE', `logo "${filename}" is empty (0 bytes)`);
  return { name: filename || 'logo', bytes };
}

async function readLogo(stream: Readable, name: string): Promise<Buffer> {
  const body = await readBody(stream, { maxBytes: MAX_LOGO_BYTES, what: `logo "${name}"` });
  return body.kind === 'bytes' ? Buffer.from(body.bytes.buffer, body.bytes.byteOffset, body.bytes.byteLength) : Buffer.alloc(0);
}

export interface SavedUpload {
  /** The sanitised, unique name. */
  name: string;
  path: string;
}

/**
 * Many images (multipart fields `file` or `files`), streamed to disk under `dir`, never held in
 * memory, each byte counted against the job's and the server's disk quota as it arrives; and the
 * logos sent for their watermark steps (field `logo`, at most a few, in memory).
 */
export async function saveImageUploads(
  request: FastifyRequest, dir: string, limits: Limits, maxFiles: number, quota: { disk: DiskQuota; job: string },
): Promise<{ files: SavedUpload[]; fields: Record<string, string>; logos: UploadedLogo[] }> {
  if (!request.isMultipart()) throw new ImgfleetError('BAD_USAGE', 'send the images as multipart/form-data, one "file" field each');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const raw: { name: string; path: string }[] = [];
  const fields: Record<string, string> = {};
  const logos: UploadedLogo[] = [];
  await readParts(request, maxFiles + MAX_LOGOS, limits.maxFileBytes, async (part) => {
    if (part.type === 'file' && part.fieldname === 'logo') {
      logos.push(logoPart(part.filename, await readLogo(part.file, part.filename), logos.length));
    } else if (part.type === 'file') {
      if (raw.length >= maxFiles) throw new ImgfleetError('TOO_MANY_FILES', `at most ${maxFiles} images per job`);
      // Uploads wait under names no sanitised name can take (those never start with a dot).
      const path = join(dir, `.part-${raw.length}`);
      let size = 0;
      part.file.on('data', (chunk: Buffer) => {
        size += chunk.length;
        try {
          if (size > limits.maxFileBytes) throw new ImgfleetError('FILE_TOO_LARGE', `${part.filename} is over the limit of ${formatBytes(limits.maxFileBytes)}`);
          quota.disk.add(quota.job, chunk.length);
        } catch (error) {
          part.file.destroy(error as Error);
        }
      });
      await pipeline(part.file, createWriteStream(path, { mode: 0o600 }));
      raw.push({ name: part.filename || 'image', path });
    } else {
      fields[part.fieldname] = fieldValue(part);
    }
  });
  if (raw.length === 0) throw new ImgfleetError('BAD_USAGE', 'no images in the request: send each as a multipart "file" field');
  const names = safeFileNames(raw.map((r) => r.name));
  const files = await Promise.all(raw.map(async (r, i) => {
    const path = join(dir, names[i]);
    await rename(r.path, path);
    return { name: names[i], path };
  }));
  return { files, fields, logos };
}

/**
 * Each part of a multipart body, under limits, handed to `each` in turn; a malformed or cut-short
 * body (which the parser reports from inside a part's stream as often as between parts) is a
 * 400, never a 500.
 */
async function readParts(request: FastifyRequest, files: number, fileSize: number, each: (part: Multipart) => Promise<void>): Promise<void> {
  // One byte over the file limit lets the readers above see the overflow and name the file.
  const parts = request.parts({ limits: { files, fileSize: fileSize + 1, fields: MAX_FIELDS, fieldSize: FIELD_BYTES, parts: files + MAX_FIELDS } });
  try {
    for await (const part of parts) await each(part);
  } catch (error) {
    if (error instanceof ImgfleetError || (error as { code?: string }).code?.startsWith('FST_')) throw error;
    throw new ImgfleetError('BAD_USAGE', `malformed multipart body: ${(error as Error).message}`);
  }
}

function fieldValue(part: Multipart): string {
  if (part.type !== 'field') return '';
  if (part.valueTruncated || part.fieldnameTruncated) {
    throw new ImgfleetError('FILE_TOO_LARGE', `field "${part.fieldname.slice(0, 64)}" is over the limit of ${formatBytes(FIELD_BYTES)}: nothing was cut; send a shorter one`);
  }
  return String(part.value);
}

/** Removes a job's uploads folder when its upload failed. */
export async function discardUploads(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
