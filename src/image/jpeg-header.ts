/**
 * Reads what the JPEG lane needs from a JPEG's markers, without decoding: size, components,
 * precision, EXIF orientation and whether an ICC profile is embedded. Returns undefined for
 * anything unusual (arithmetic or lossless coding included), which then takes the general path.
 */
export interface JpegHeader {
  width: number;
  height: number;
  components: number;
  precision: number;
  orientation: number;
  hasIcc: boolean;
}

const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);
/** Baseline, extended and progressive, Huffman-coded: what every camera and encoder writes. */
const HUFFMAN_DCT = new Set([0xc0, 0xc1, 0xc2]);

export function readJpegHeader(bytes: Buffer): JpegHeader | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let orientation = 1;
  let hasIcc = false;
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) return undefined;
    const marker = bytes[pos + 1];
    if (marker === 0xff) { pos++; continue; }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { pos += 2; continue; }
    if (marker === 0xd9 || marker === 0xda) return undefined;
    const length = bytes.readUInt16BE(pos + 2);
    const start = pos + 4;
    const end = pos + 2 + length;
    if (length < 2 || end > bytes.length) return undefined;
    if (marker === 0xe1 && bytes.toString('latin1', start, start + 6) === 'Exif\0\0') {
      orientation = exifOrientation(bytes.subarray(start + 6, end)) ?? 1;
    } else if (marker === 0xe2 && bytes.toString('latin1', start, start + 12) === 'ICC_PROFILE\0') {
      hasIcc = true;
    } else if (SOF_MARKERS.has(marker)) {
      if (end - start < 6 || !HUFFMAN_DCT.has(marker)) return undefined;
      return {
        precision: bytes[start], height: bytes.readUInt16BE(start + 1), width: bytes.readUInt16BE(start + 3),
        components: bytes[start + 5], orientation, hasIcc,
      };
    }
    pos = end;
  }
  return undefined;
}

/** The Orientation tag (0x0112) of IFD0 in a TIFF-structured EXIF block. */
function exifOrientation(tiff: Buffer): number | undefined {
  if (tiff.length < 8) return undefined;
  const little = tiff.toString('latin1', 0, 2) === 'II';
  const u16 = (at: number) => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return undefined;
  const entries = u16(ifd);
  for (let i = 0; i < entries; i++) {
    const at = ifd + 2 + i * 12;
    if (at + 12 > tiff.length) return undefined;
    if (u16(at) === 0x0112) return u16(at + 8);
  }
  return undefined;
}
