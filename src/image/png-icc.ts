/**
 * An ICC profile in a PNG: an iCCP chunk (a name, then the profile deflated) right after the
 * header, as it must come before the image data. A PNG that already says how its colours are
 * read (iCCP or sRGB) is left as it is.
 */
import zlib from 'node:zlib';
import { PNG_SIGNATURE, pngChunk } from './png-write.js';

/** The name the chunk gives the profile: any 1–79 Latin-1 characters. */
const PROFILE_NAME = 'ICC profile';
const HEADER_END = 8 + 8 + 13 + 4;

/** `png` with `profile`, or undefined when the file is not a PNG laid out as expected. */
export function withPngIccProfile(png: Buffer, profile: Buffer): Buffer | undefined {
  if (typeof zlib.crc32 !== 'function' || png.length < HEADER_END || !png.subarray(0, 8).equals(PNG_SIGNATURE)) return undefined;
  if (png.readUInt32BE(8) !== 13 || png.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  for (let at = HEADER_END; at + 8 <= png.length; at += 12 + png.readUInt32BE(at)) {
    const type = png.toString('latin1', at + 4, at + 8);
    if (type === 'IDAT') break;
    if (type === 'iCCP' || type === 'sRGB') return undefined;
  }
  const data = Buffer.concat([Buffer.from(`${PROFILE_NAME}\0\0`, 'latin1'), zlib.deflateSync(profile)]);
  return Buffer.concat([png.subarray(0, HEADER_END), ...pngChunk('iCCP', data), png.subarray(HEADER_END)]);
}
