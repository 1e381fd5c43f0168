/**
 * Memory for pixels that live only until they are read once (a large JPEG decoded small, until
 * the resampler has it; a PNG's filtered rows, until zlib has them), kept for the next image
 * instead of left to the garbage collector. A server making thumbnails of camera photos
 * allocated 2-3 MB of such pixels a request, and V8 answered that outside memory with a full
 * collection every 100-150 ms, 2-3 ms of the main thread's time a request.
 */
const MAX_KEPT = 4;
const MAX_KEPT_BYTES = 16 * 1024 * 1024;
const kept: ArrayBuffer[] = [];

/** `bytes` of memory, reused when a kept block fits it without wasting more than half. */
export function takePixels(bytes: number): Buffer {
  const at = kept.findIndex((block) => block.byteLength >= bytes && block.byteLength <= bytes * 2);
  if (at >= 0) return Buffer.from(kept.splice(at, 1)[0], 0, bytes);
  return Buffer.allocUnsafeSlow(bytes);
}

/** Gives back memory from takePixels once nothing reads it any more. */
export function giveBackPixels(pixels: Buffer): void {
  const block = pixels.buffer as ArrayBuffer;
  if (block.byteLength > MAX_KEPT_BYTES || kept.includes(block)) return;
  if (kept.length >= MAX_KEPT) kept.shift();
  kept.push(block);
}
