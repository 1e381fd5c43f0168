import type { ImageSource, ReadOptions } from '../image/decode.js';
import type { Channels, Frame, Size } from '../image/frame.js';
import type { Limits } from '../limits.js';
import type { NativeStage } from '../image/native-stage.js';
import type { ParamSpec } from './params.js';

export type { Size };

/** What an operation may ask of the engine running it. */
export interface OpContext {
  /** Bytes of a named asset (a logo file), read once and cached by the caller. */
  loadAsset(ref: string): Promise<Buffer>;
}

interface OperationBase<P> {
  name: string;
  /** The name people see in forms ("Find edges" for edges). */
  label: string;
  summary: string;
  params: ParamSpec;
  /** Parameter names the compact syntax accepts without `name=`, in order. */
  positional?: readonly string[];
  /** Rules between fields; returns [field, message] when broken. */
  check?(params: P): [field: string, message: string] | undefined;
  /**
   * Why the operation cannot run on each frame of an animation on its own (the frames must
   * keep one size, for one); such an operation refuses animated input with this reason.
   */
  notPerFrame?: string;
}

export interface ImageOperation<P = any> extends OperationBase<P> {
  kind: 'image';
  /** Output size for a given input size, when the operation changes it (for limit checks). */
  outputSize?(input: Size, params: P): Size;
  apply(frame: Frame, params: P, ctx: OpContext): Promise<Frame>;
  /**
   * For an operation libvips runs: its place in sharp's fixed order, so that steps written in
   * that order run as one libvips pipeline (src/image/native-stage.ts). Without it, the
   * operation works on pixels.
   */
  stage?: NativeStage;
  /**
   * For an operation libvips runs at some sizes only (on smaller images it works on pixels):
   * its stage for an image of `size` and `channels`, or undefined where it works on pixels.
   * Such a step joins the pending libvips pipeline when it can, as a step with a stage does.
   */
  stageAt?(size: Size, params: P, channels: Channels): NativeStage | undefined;
  /**
   * For an operation on pixels light enough to run on the thread that starts the task: about
   * how many nanoseconds of that thread it takes on an image of `size`, as measured (0 when
   * libvips does its work there). Without it, a task with the operation takes a thread of its
   * own (see src/pipeline/lane.ts, workInLibvips).
   */
  pixelWorkNs?(size: Size, params: P): number;
  /** How the operation runs when a large image is cut into tiles (see src/tiling/plan.ts). */
  tiling(params: P): TileRule<P>;
}

/**
 * How an operation behaves on one tile of a larger image:
 * - `local`: each output pixel depends only on input pixels at most `halo` pixels away
 *   (0 for per-pixel operations), so a tile widened by that halo gives exact pixels;
 * - `mean-grey`: per-pixel once the whole image's mean grey is known, which a first pass
 *   over the whole image measures and hands to every tile;
 * - `geometry`: moves pixels (resize, crop, rotate, …), so it runs before the tiles on the
 *   source or after them on the stitched image;
 * - `placed`: draws at a place that depends on the whole image's size, so it runs after stitching;
 * - `whole`: needs the whole image at once; `reason` says why tiling is refused.
 */
export type TileRule<P = any> =
  | { kind: 'local'; halo: number }
  | { kind: 'mean-grey'; applyWithMean(frame: Frame, params: P, meanGrey: number): Promise<Frame> }
  | { kind: 'geometry' }
  | { kind: 'placed' }
  | { kind: 'whole'; reason: string };

/**
 * An operation that yields data about the image instead of a new image; it ends a pipeline.
 * It reads either the decoded pixels the steps before it leave (`analyse`), or the source
 * itself (`fromSource`: its header, EXIF and ICC profile too), and then it is the only step.
 */
export interface AnalysisOperation<P = any, R = unknown> extends OperationBase<P> {
  kind: 'analysis';
  analyse?(frame: Frame, params: P, ctx: OpContext): Promise<R>;
  fromSource?(input: ImageSource, params: P, limits: Limits, read: ReadOptions): Promise<R>;
}

export type Operation = ImageOperation | AnalysisOperation;
