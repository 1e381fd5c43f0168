import { loadSharp, whenSharpLoads } from './sharp-module.js';

/** From this many pixels, a decode is long enough for libvips' threads to pay for themselves. */
export const LARGE_IMAGE_PIXELS = 2_000_000;

let cores = 0;

/**
 * Lets threadsForImage choose libvips threads per image in a process that runs several images
 * at once on `count` cores (the pool); without it, libvips keeps its own setting.
 */
export function shareCores(count: number): void {
  cores = count;
  whenSharpLoads((sharp) => sharp.concurrency(1));
}

/**
 * libvips reads its thread count, which is one setting for the whole process, when a pipeline
 * starts. Small images get one thread each (threads cost more than they save there, and the
 * pool runs one image per core); a large image gets the cores that no other libvips pipeline
 * of this process is using (sharp counts those across all threads), so a lone large image
 * uses every core and a full pool stays at one thread per image. Call it just before the
 * image's pipeline runs.
 */
export function threadsForImage(pixels: number): void {
  if (cores <= 1) return;
  const sharp = loadSharp();
  const { queue, process } = sharp.counters();
  const idle = cores - queue - process;
  sharp.concurrency(pixels >= LARGE_IMAGE_PIXELS && idle > 1 ? idle : 1);
}
