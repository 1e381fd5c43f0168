import { jpegTurboAvailable } from '../image/jpeg-turbo.js';
import { resample } from '../image/resample/wasm-resampler.js';
import { loadSharp } from '../image/sharp-module.js';
import { parseCompact } from './compact.js';
import { processImage } from './process.js';
import { validatePipeline } from './validate.js';

/** Outputs a server makes most, each through the lane a camera photo takes. */
const WARM_PIPELINES = ['resize:64:64,output:jpeg', 'resize:64:64,output:png', 'resize:64:64,output:webp'];

/**
 * Runs a small made-up photo through the pixel lanes on each of a server's pool threads before
 * it takes work (LocalEngineOptions.warm), so that their libraries load and their code compiles
 * then, and the resampler once at a camera photo's size: a server's first camera photo took
 * 125 ms instead of 25-35 ms (70 ms of it loading the decoder and the resampler, 17 ms the
 * encoder), 70-75 ms with the small photo alone.
 * Never fails: a lane that cannot start now is met by the first request, which falls back.
 */
export async function warmUpLanes(): Promise<void> {
  try {
    // Past the size the JPEG lane decodes at a smaller scale in libuv's pool, as it does camera photos.
    const photo = await loadSharp()({ create: { width: 720, height: 720, channels: 3, background: { r: 90, g: 140, b: 200 } } }).jpeg().toBuffer();
    for (const text of WARM_PIPELINES) await processImage(photo, validatePipeline(parseCompact(text)));
    // A camera photo decoded small is about this large: the resampler's first image of that size
    // took 35-40 ms more than the next (the memory it first touches, the code V8 optimises).
    resample({ data: Buffer.alloc(1200 * 900 * 4), width: 1200, height: 900, channels: 4 }, 512, 384, 'lanczos3');
  } catch {
    // The first request meets it instead.
  }
}

/**
 * Loads, on a server's own thread, the decoder library its runner asks about when it chooses
 * each request's lane (src/runner/runner.ts), before the server takes requests: its first
 * camera photo took 41-52 ms instead of 51-68.
 */
export function warmUpLaneChoice(): void {
  jpegTurboAvailable();
}
