import { ImgfleetError } from '../errors.js';
import type { Size } from '../ops/types.js';
import type { ValidPipeline } from '../pipeline/spec.js';
import { planTiling, type TilePlan, type TilePlanResult } from './plan.js';

export const DEFAULT_TILE_SIZE = 2048;

export interface TilingChoice {
  /** Always run as tiles of this many pixels a side; a pipeline that cannot is an error. */
  tileSize?: number;
  /**
   * Otherwise run as tiles when the image the filters see has more pixels than this, if the
   * pipeline allows it. @defaultValue 16 000 000
   */
  thresholdPixels?: number;
}

export const DEFAULT_TILE_THRESHOLD = 16_000_000;

/** Fails before any image is read when tiles were asked for and the pipeline cannot run on them. */
export function checkTileable(pipeline: ValidPipeline, choice: TilingChoice, planned: TilePlanResult = planTiling(pipeline)): void {
  if (choice.tileSize !== undefined && !planned.ok) throw new ImgfleetError('NOT_TILEABLE', `cannot run on tiles: ${planned.reason}`);
}

/** The tile size for an image of `size` under a plan, or undefined to run it whole. */
export function tileSizeFor(size: Size, plan: TilePlan, choice: TilingChoice): number | undefined {
  if (choice.tileSize !== undefined) return choice.tileSize;
  // The filters see the image after the geometry before them: a downscale first may leave little to tile.
  let seen = size;
  for (const step of plan.before) {
    if (step.op.kind === 'image' && step.op.outputSize) seen = step.op.outputSize(seen, step.params);
  }
  return seen.width * seen.height > (choice.thresholdPixels ?? DEFAULT_TILE_THRESHOLD) ? DEFAULT_TILE_SIZE : undefined;
}
