/**
 * A JPEG's ICC profile, which it carries in APP2 segments marked ICC_PROFILE, each with its
 * place in the sequence and the count (a profile longer than a segment holds is split).
 */
const MARK = Buffer.from('ICC_PROFILE\0', 'latin1');
/** A segment holds at most 65,535 bytes, counting its length field, the mark and two sequence bytes. */
const CHUNK = 65_535 - 2 - MARK.length - 2;

/** The profile of a JPEG, or undefined when it has none or its pieces do not add up. */
export function jpegIccProfile(jpeg: Buffer): Buffer | undefined {
  const pieces: Buffer[] = [];
  let count = 0;
  let pos = 2;
  while (pos + 4 <= jpeg.length && jpeg[pos] === 0xff) {
    const marker = jpeg[pos + 1];
    if (marker === 0xda || marker === 0xd9) break;
    const end = pos + 2 + jpeg.readUInt16BE(pos + 2);
    if (end > jpeg.length) return undefined;
    const body = pos + 4;
    if (marker === 0xe2 && end - body > MARK.length + 2 && jpeg.subarray(body, body + MARK.length).equals(MARK)) {
      const sequence = jpeg[body + MARK.length];
      count = jpeg[body + MARK.length + 1];
      if (sequence < 1 || sequence > count) return undefined;
      pieces[sequence - 1] = jpeg.subarray(body + MARK.length + 2, end);
    }
    pos = end;
  }
  if (count === 0) return undefined;
  const ordered = Array.from({ length: count }, (_, i) => pieces[i]);
  return ordered.every((piece) => piece !== undefined) ? Buffer.concat(ordered) : undefined;
}

/** `jpeg` with `profile` in APP2 segments, after its JFIF (APP0) segment if it starts with one. */
export function withJpegIccProfile(jpeg: Buffer, profile: Buffer): Buffer {
  const count = Math.ceil(profile.length / CHUNK);
  const segments: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const chunk = profile.subarray(i * CHUNK, (i + 1) * CHUNK);
    const head = Buffer.alloc(4 + MARK.length + 2);
    head.writeUInt16BE(0xffe2, 0);
    head.writeUInt16BE(2 + MARK.length + 2 + chunk.length, 2);
    MARK.copy(head, 4);
    head[4 + MARK.length] = i + 1;
    head[4 + MARK.length + 1] = count;
    segments.push(head, chunk);
  }
  const at = jpeg[2] === 0xff && jpeg[3] === 0xe0 ? 4 + jpeg.readUInt16BE(4) : 2;
  return Buffer.concat([jpeg.subarray(0, at), ...segments, jpeg.subarray(at)]);
}
