/**
 * Reads an animation's frames, delays and loop count straight from the GIF or WebP container
 * bytes (GIF89a and the RIFF WebP layout as their specifications give them), with no image
 * library: an independent check of what the encoders wrote.
 */
export interface AnimationFacts {
  format: 'gif' | 'webp';
  width: number;
  height: number;
  frames: number;
  /** Per frame, in milliseconds. */
  delays: number[];
  /**
   * How many times it plays, 0 for forever; undefined when the file says nothing (a GIF without
   * NETSCAPE2.0 plays once). A GIF stores the repeats after the first play, WebP the plays.
   */
  loop?: number;
}

export function readAnimation(bytes: Buffer): AnimationFacts {
  if (bytes.toString('latin1', 0, 3) === 'GIF') return readGif(bytes);
  if (bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return readWebp(bytes);
  throw new Error('neither GIF nor WebP');
}

function readGif(b: Buffer): AnimationFacts {
  const width = b.readUInt16LE(6);
  const height = b.readUInt16LE(8);
  const flags = b[10];
  let at = 13 + (flags & 0x80 ? 3 * (1 << ((flags & 7) + 1)) : 0);
  const delays: number[] = [];
  let pendingDelay = 0;
  let loop: number | undefined;
  const skipSubBlocks = () => {
    while (b[at] !== 0) at += b[at] + 1;
    at += 1;
  };
  for (;;) {
    const kind = b[at];
    if (kind === 0x3b || at >= b.length) break;
    if (kind === 0x21) {
      const label = b[at + 1];
      at += 2;
      if (label === 0xf9) pendingDelay = b.readUInt16LE(at + 2) * 10;
      else if (label === 0xff && b.toString('latin1', at + 1, at + 12) === 'NETSCAPE2.0') {
        const repeats = b.readUInt16LE(at + 1 + 11 + 2);
        loop = repeats === 0 ? 0 : repeats + 1;
      }
      skipSubBlocks();
    } else if (kind === 0x2c) {
      const local = b[at + 9];
      at += 10 + (local & 0x80 ? 3 * (1 << ((local & 7) + 1)) : 0);
      at += 1; // LZW minimum code size
      skipSubBlocks();
      delays.push(pendingDelay);
      pendingDelay = 0;
    } else {
      throw new Error(`GIF: unexpected block 0x${kind.toString(16)} at ${at}`);
    }
  }
  return { format: 'gif', width, height, frames: delays.length, delays, loop };
}

function readWebp(b: Buffer): AnimationFacts {
  let width = 0;
  let height = 0;
  let loop: number | undefined;
  const delays: number[] = [];
  let stillFrames = 0;
  for (let at = 12; at + 8 <= b.length;) {
    const type = b.toString('latin1', at, at + 4);
    const size = b.readUInt32LE(at + 4);
    const body = at + 8;
    if (type === 'VP8X') {
      width = b.readUIntLE(body + 4, 3) + 1;
      height = b.readUIntLE(body + 7, 3) + 1;
    } else if (type === 'ANIM') {
      loop = b.readUInt16LE(body + 4);
    } else if (type === 'ANMF') {
      delays.push(b.readUIntLE(body + 12, 3));
    } else if (type === 'VP8 ' || type === 'VP8L') {
      stillFrames += 1;
    }
    at = body + size + (size & 1);
  }
  return { format: 'webp', width, height, frames: delays.length || stillFrames, delays, loop };
}
