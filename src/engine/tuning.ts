import { availableParallelism } from 'node:os';
import sharp from 'sharp';

/**
 * Images in parallel × libvips threads per image should match the cores: one image per core,
 * each on one libvips thread, beats a few images each fighting for every core. libvips' cache
 * is for re-reading the same file, which a batch never does.
 */
export function tuneSharpForParallelImages(): void {
  sharp.concurrency(1);
  sharp.cache(false);
}

export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}
