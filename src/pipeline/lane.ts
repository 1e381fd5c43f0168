import { planJpegTurboLane, type TurboLanePlan } from './jpeg-turbo-lane.js';
import { planPngLane, type PngLanePlan } from './png-lane.js';
import { planWebpLane, type WebpLanePlan } from './webp-lane.js';
import { readPngHeader } from '../image/png-levels.js';
import { shrinkOnLoad } from '../image/decode.js';
import { NO_SHRINK_ON_LOAD, type ShrinkOnLoad } from '../image/frame.js';
import { decodedSize } from '../image/jpeg-turbo.js';
import { quickHeader } from '../image/quick-header.js';
import { enlarges, resizeGeometry, resizeRoute, type ResizeParams } from '../ops/resize.js';
import type { Size } from '../ops/types.js';
import type { ValidPipeline } from './spec.js';

/**
 * Which codecs and resampler make a result; lanes may differ in pixels, never in meaning.
 * `png-rows`: a PNG's histogram counted from its rows as they are inflated (src/image/png-levels.ts).
 * `png-zlib`: a plain PNG inflated by Node's zlib into the resampler (src/pipeline/png-lane.ts).
 * `libwebp`: a plain lossy WebP decoded by libwebp into the resampler (src/pipeline/webp-lane.ts).
 */
export type Lane = 'libvips' | 'jpeg-turbo' | 'png-rows' | 'png-zlib' | 'libwebp';

/** Bytes from the start of an input that are enough to choose its lane. */
export const LANE_HEAD_BYTES = 64 * 1024;

/**
 * The lane this process would run `pipeline` on for an input that starts with `head` (at least
 * its first LANE_HEAD_BYTES, or all of it). Results of different lanes are cached apart.
 */
export function laneFor(head: Uint8Array, pipeline: ValidPipeline): Lane {
  if (pipeline.steps.length === 1 && pipeline.steps[0].op.name === 'histogram' && readPngHeader(head)) return 'png-rows';
  return pixelLanePlan(head, pipeline)?.lane ?? 'libvips';
}

/** A plan of a lane that decodes into the resampler: the libjpeg-turbo, PNG or WebP lane. */
export type PixelLanePlan = TurboLanePlan | PngLanePlan | WebpLanePlan;

/** The processor's choice, from the same first bytes laneFor reads, so that the two always agree. */
export function pixelLanePlan(input: Uint8Array, pipeline: ValidPipeline): PixelLanePlan | undefined {
  const head = Buffer.from(input.buffer, input.byteOffset, Math.min(input.byteLength, LANE_HEAD_BYTES));
  return planJpegTurboLane(head, pipeline) ?? planPngLane(head, pipeline) ?? planWebpLane(head, pipeline);
}

/**
 * Whether the lane decodes in libuv's pool, leaving the calling thread free meanwhile as libvips
 * does: a large JPEG decoded at a smaller scale (decodeJpegScaled).
 */
export function decodesOffThread(plan: PixelLanePlan): plan is TurboLanePlan {
  return plan.lane === 'jpeg-turbo' && plan.shrink > 1;
}

/**
 * What else the thread that would start a task has to do. `serving`: a server's requests, which
 * wait while it runs a lane's resize or a step on pixels, however light; in a server those go to
 * the pool's threads. Camera photos made 512 px on request, interleaved (bench/README.md): JPEG
 * 61-89 req/s with the resize on a pool thread against 63-84 on the server's thread (2 clients),
 * WebP 55-66 against 51-58, PNG 44-56 against 39-52; the server's thread spent 2.3-4.2 ms a
 * request against 5.1-10.5.
 */
export type CallingThread = 'free' | 'serving';

/**
 * The calling thread's time for such a lane's resize, by the pixels it decodes: about 3–4 ns a
 * pixel in the resampler, measured on 2 cores (bench/README.md).
 */
const RESAMPLE_NS_PER_PIXEL = 4;

/**
 * The same for decoded RGB pixels copied into the resampler and back: 2.8–3.4 ms for a
 * 667×500 copy of a camera photo to a 400×400 cover, measured on 2 cores.
 */
const COPY_AND_RESAMPLE_NS_PER_PIXEL = 10;

/**
 * Time on the starting thread that a task whose other work is all in libvips may take for its
 * steps on pixels, and still be started from any thread: about what libvips' own set-up of a
 * pipeline costs that thread (a thumbnail sharpened, or text drawn on a 400-pixel image).
 */
const LIGHT_PIXEL_WORK_NS = 5_000_000;

/**
 * Whether the work of `pipeline` on an input that starts with `head` happens in libvips's own
 * threads (every step a libvips stage, or one on pixels light enough at its size, a resize the
 * resampler only finishes from libvips' smaller copy among them (resizeRoute), and the libvips
 * lane, or a lane that decodes in libuv's pool and whose resize is light too): then any
 * JavaScript thread can start it and
 * wait, and none needs to be its own. Otherwise (heavier steps on pixels in JavaScript or
 * WebAssembly, the pixel lanes that decode on their thread) the work takes the thread that runs it.
 * Unsure is no. Yes comes with the input's size in pixels, from its header. A thread that is
 * `serving` requests keeps none of that work: only work all in libvips starts from it.
 */
export function workInLibvips(head: Uint8Array, pipeline: ValidPipeline, caller: CallingThread = 'free'): { pixels: number } | undefined {
  if (pipeline.yieldsData) return undefined;
  const plan = pixelLanePlan(head, pipeline);
  if (plan && (caller === 'serving' || !decodesOffThread(plan))) return undefined;
  const header = quickHeader(Buffer.from(head.buffer, head.byteOffset, head.byteLength));
  if (!header) return undefined;
  let size: Size = header.orientation >= 5 ? { width: header.height, height: header.width } : header;
  const decoded = plan && decodedSize(header, plan.shrink);
  let pixelWorkNs = decoded ? RESAMPLE_NS_PER_PIXEL * decoded.width * decoded.height : 0;
  for (const step of pipeline.steps) {
    if (step.op.kind !== 'image') return undefined;
    let stepNs = 0;
    if (step.op.name === 'resize') {
      const first = step === pipeline.steps[0];
      const onLoad = first && !header.converts ? shrinkOnLoad(header.format, header.orientation) : NO_SHRINK_ON_LOAD;
      const resampleNs = resizeResampleNs(size, step.params as unknown as ResizeParams, header.channels, first, plan !== undefined, onLoad);
      if (resampleNs === undefined) return undefined;
      stepNs = resampleNs;
    } else if (!step.op.stage) {
      if (!step.op.pixelWorkNs) return undefined;
      stepNs = step.op.pixelWorkNs(size, step.params);
    }
    if (stepNs > 0 && caller === 'serving') return undefined;
    pixelWorkNs += stepNs;
    if (pixelWorkNs > LIGHT_PIXEL_WORK_NS) return undefined;
    size = step.op.outputSize ? step.op.outputSize(size, step.params) : size;
  }
  return { pixels: header.width * header.height };
}

/**
 * The calling thread's time for a resize step of this size in the resampler: none when libvips
 * makes it all, or a pixel lane makes it as the first step (its cost counted from the pixels it
 * decodes); by the pixels of libvips' smaller copy when the resampler finishes a cover from one;
 * unknown (undefined) for an enlargement or a resample of the whole pixels.
 */
function resizeResampleNs(input: Size, p: ResizeParams, channels: number, first: boolean, lane: boolean, onLoad: ShrinkOnLoad): number | undefined {
  if (first && lane) return enlarges(input, resizeGeometry(input, p)) ? undefined : 0;
  const route = resizeRoute(input, p, channels, first, onLoad);
  if (route.by !== 'resampler') return 0;
  const { from } = route;
  return from.width === input.width && from.height === input.height ? undefined : COPY_AND_RESAMPLE_NS_PER_PIXEL * from.width * from.height;
}
