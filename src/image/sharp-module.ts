import { createRequire } from 'node:module';
import type sharpModule from 'sharp';

export type SharpModule = typeof sharpModule;

let loaded: SharpModule | undefined;
const settings: ((sharp: SharpModule) => void)[] = [];

/**
 * sharp, with libvips under it, loaded in this thread when it is first needed. Loading it costs a
 * thread 50–80 ms of CPU, and a thread whose images all go from JPEG or PNG to JPEG through the
 * libjpeg-turbo or PNG lane never needs it: a batch of small images then starts that much sooner.
 * Its JavaScript comes bundled in one file by `npm run build` (scripts/bundle.mjs): from its
 * package, file by file, it took 20 ms more of CPU.
 */
export function loadSharp(): SharpModule {
  if (!loaded) {
    loaded = createRequire(import.meta.url)('../../bundle/sharp.cjs') as SharpModule;
    for (const apply of settings.splice(0)) apply(loaded);
  }
  return loaded;
}

/** Applies one of sharp's process-wide settings now if this thread has loaded it, else as it loads. */
export function whenSharpLoads(apply: (sharp: SharpModule) => void): void {
  if (loaded) apply(loaded);
  else settings.push(apply);
}
