/**
 * An ICC profile in a WebP: an ICCP chunk after the extended header (VP8X) that flags it. A
 * simple WebP (one VP8 or VP8L chunk) gains that header, with the canvas size read from its
 * bitstream.
 */
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
  const size = canvasSize(webp, first);
  if (!size) return undefined;
  const extended = Buffer.alloc(10);
  extended[0] = ICC_FLAG;
  extended.writeUIntLE(size.width - 1, 4, 3);
  extended.writeUIntLE(size.height - 1, 7, 3);
  return riff([chunk('VP8X', extended), iccp, webp.subarray(12)]);
}

/** The size a simple WebP's bitstream gives: a VP8 key frame's header, or a VP8L one's. */
function canvasSize(webp: Buffer, fourcc: string): { width: number; height: number } | undefined {
  const data = 20;
  if (fourcc === 'VP8 ' && webp[data + 3] === 0x9d && webp[data + 4] === 0x01 && webp[data + 5] === 0x2a) {
    return { width: webp.readUInt16LE(data + 6) & 0x3fff, height: webp.readUInt16LE(data + 8) & 0x3fff };
  }
  if (fourcc === 'VP8L' && webp[data] === 0x2f) {
    const bits = webp.readUInt32LE(data + 1);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  return undefined;
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
