/**
 * The input's ICC profile written into an encoded JPEG, WebP or PNG, for outputs encoded from
 * pixels that no longer carry it (the pixel lanes, the resampler, steps in JavaScript).
 */
import { withJpegIccProfile } from './jpeg-icc.js';
import { withPngIccProfile } from './png-icc.js';
import { withWebpIccProfile } from './webp-icc.js';

const SPLICERS: Record<string, (data: Buffer, profile: Buffer) => Buffer | undefined> = {
  jpeg: withJpegIccProfile,
  webp: withWebpIccProfile,
  png: withPngIccProfile,
};

/** Whether a profile can be written into an encoded file of this format. */
export function splicesIccProfile(format: string): boolean {
  return Object.hasOwn(SPLICERS, format);
}

/**
 * `data`, encoded as `format` from pixels of `channels` (1: grey), with `profile`; undefined when
 * the format or the file's layout does not allow it. A profile that does not fit the file's
 * colours (an RGB one on a grey JPEG or PNG, say) is left out, as libvips leaves it out.
 */
export function withIccProfile(format: string, data: Buffer, profile: Buffer, channels: number): Buffer | undefined {
  if (!splicesIccProfile(format)) return undefined;
  // A WebP is always colour.
  const colour = format === 'webp' || channels >= 3;
  const space = profile.toString('latin1', 16, 20);
  if (space !== (colour ? 'RGB ' : 'GRAY')) return data;
  return SPLICERS[format](data, profile);
}
