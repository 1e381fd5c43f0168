import { availableParallelism } from 'node:os';
import { whenSharpLoads } from '../image/sharp-module.js';
import { shareCores } from '../image/vips-threads.js';

/**
 * Images in parallel × libvips threads per image should match the cores: one image per core,
 * each on one libvips thread, beats a few images each fighting for every core, and a large
 * image alone gets the idle cores (src/image/vips-threads.ts). libvips' cache is for
 * re-reading the same file, which a batch never does.
 */
export function tuneSharpForParallelImages(): void {
  shareCores(defaultThreads());
  whenSharpLoads((sharp) => sharp.cache(false));
}

export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}
