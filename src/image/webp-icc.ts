/**
 * An ICC profile in a WebP: an ICCP chunk after the extended header (VP8X) that flags it. A
 * simple WebP (one VP8 or VP8L chunk) gains that header, with the canvas size read from its
 * bitstream (quick-header.ts).
 */
import { quickHeader } from './quick-header.js';

const ICC_FLAG = 0x20;

/** `webp` with `profile`, or undefined when the file is not a WebP laid out as expected. */
export function withWebpIccProfile(webp: Buffer, profile: Buffer): Buffer | undefined {
  if (webp.length < 30 || webp.toString('latin1', 0, 4) !== 'RIFF' || webp.toString('latin1', 8, 12) !== 'WEBP') return undefined;
  const first = webp.toString('latin1', 12, 16);
  const iccp = chunk('ICCP', profile);
  if (first === 'VP8X') {
    const flags = webp[20];
    if (flags & ICC_FLAG) return undefined;
    const header = Buffer.from(webp.subarray(12, 30));
    header[8] = flags | ICC_FLAG;
    return riff([header, iccp, webp.subarray(30)]);
  }
  const size = quickHeader(webp);
  if (size?.format !== 'webp') return undefined;
  const extended = Buffer.alloc(10);
  extended[0] = ICC_FLAG;
  extended.writeUIntLE(size.width - 1, 4, 3);
  extended.writeUIntLE(size.height - 1, 7, 3);
  return riff([chunk('VP8X', extended), iccp, webp.subarray(12)]);
}

function chunk(fourcc: string, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(fourcc, 0, 'latin1');
  head.writeUInt32LE(payload.length, 4);
  return Buffer.concat([head, payload, Buffer.alloc(payload.length & 1)]);
}

function riff(parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(body.length + 4, 4);
  head.write('WEBP', 8, 'latin1');
  return Buffer.concat([head, body]);
}
