import { createHmac, timingSafeEqual } from 'node:crypto';
import { ImgfleetError } from '../errors.js';

/** The signature slot of an unsigned URL, accepted only with --allow-unsigned. */
export const UNSIGNED = '_';

/**
 * Image URLs are `/i/<signature><path>`, where the signature is the HMAC-SHA256 of `<path>`
 * (`/<pipeline>/<source>`, exactly as sent, percent-escapes included) in base64url.
 * Several keys verify at once, so a key can be rotated: sign with the new one first, keep
 * the old one after it until its URLs are gone.
 */
export function sign(path: string, key: string): string {
  return createHmac('sha256', key).update(path).digest('base64url');
}

export function verify(signature: string, path: string, keys: readonly string[]): boolean {
  const given = Buffer.from(signature);
  return keys.some((key) => {
    const expected = Buffer.from(sign(path, key));
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}

/** The signed URL path of `/<pipeline>/<source>`. */
export function signedPath(path: string, keys: readonly string[]): string {
  if (keys.length === 0) throw new ImgfleetError('BAD_USAGE', 'no signing key: set IMGFLEET_KEY (several, comma-separated, for rotation; the first one signs)');
  const normalised = path.startsWith('/') ? path : `/${path}`;
  if (!/^\/[^/]+\/./.test(normalised)) throw new ImgfleetError('BAD_USAGE', `expected /<pipeline>/<source>, got "${path}"`);
  if (/[^\x21-\x7e]|[?#]/.test(normalised)) throw new ImgfleetError('BAD_USAGE', `"${path}" has spaces, ? or # or characters outside ASCII: percent-encode them as the URL will carry them`);
  return `/i/${sign(normalised, keys[0])}${normalised}`;
}
