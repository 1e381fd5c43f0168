import { createHash } from 'node:crypto';
import { ImgfleetError } from '../errors.js';
import { probe } from '../image/decode.js';
import { formatBytes, type Limits } from '../limits.js';
import type { Source } from '../task/task.js';

/** A logo sent with a request (multipart field `logo`), by the name its watermark step gives. */
export interface UploadedLogo {
  name: string;
  bytes: Buffer;
}

/** Logos one request may carry, and how large each may be. */
export const MAX_LOGOS = 4;
export const MAX_LOGO_BYTES = 4 * 1024 * 1024;

/** Logos sent with a request, ready to travel with its work. */
export interface SentLogos {
  /** Upload name → the name the pipeline gives it from then on: `upload:<sha256>`, so results are cached by the logo's content. */
  names: ReadonlyMap<string, string>;
  /** The logos by those names (Task.assets). */
  assets: Record<string, Extract<Source, { kind: 'bytes' }>>;
}

/** Checks each logo (an image within the limits, not too large) and names it by its content. */
export async function sentLogos(logos: readonly UploadedLogo[], limits: Limits): Promise<SentLogos> {
  const names = new Map<string, string>();
  const assets: SentLogos['assets'] = {};
  for (const logo of logos) {
    if (logo.bytes.length > MAX_LOGO_BYTES) {
      throw new ImgfleetError('FILE_TOO_LARGE', `logo "${logo.name}" is ${formatBytes(logo.bytes.length)}, over the limit of ${formatBytes(MAX_LOGO_BYTES)}`);
    }
    try {
      await probe(logo.bytes, limits);
    } catch (error) {
      if (error instanceof ImgfleetError) throw new ImgfleetError(error.code, `logo "${logo.name}": ${error.message}`);
      throw error;
    }
    const name = `upload:${createHash('sha256').update(logo.bytes).digest('hex')}`;
    names.set(logo.name, name);
    assets[name] = { kind: 'bytes', bytes: logo.bytes };
  }
  return { names, assets };
}
