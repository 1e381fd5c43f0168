import { InvalidArgumentError, type Command } from 'commander';
import { ImgfleetError } from '../errors.js';
import { readPipelineArgument } from '../pipeline/load.js';
import type { ValidPipeline } from '../pipeline/spec.js';
import { validatePipeline } from '../pipeline/validate.js';
import type { TilingChoice } from '../tiling/choose.js';

export function positiveInteger(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a whole number ≥ 1, got "${text}"`);
  return n;
}

export function nonNegativeInteger(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number ≥ 0, got "${text}"`);
  return n;
}

export function probability(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`expected a probability from 0 to 1, got "${text}"`);
  return n;
}

export function positiveNumber(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number > 0, got "${text}"`);
  return n;
}

export async function loadPipeline(text: string): Promise<ValidPipeline> {
  return validatePipeline(await readPipelineArgument(text));
}

export function usageError(message: string): ImgfleetError {
  return new ImgfleetError('BAD_USAGE', message);
}

/** Whether to draw live progress: only for a person at a terminal. */
export function interactive(json = false): boolean {
  return Boolean(process.stderr.isTTY) && !process.env.CI && !json;
}

export const PIPELINE_HELP = 'pipeline: compact syntax (resize:800,sharpen,output:webp:80), inline JSON, or @file.json; see `imgfleet ops`';

/** The cluster options shared by run, process and histogram. */
export function withClusterOptions(command: Command): Command {
  return command
    .option('--redis <url>', 'send the work to the cluster on this Redis (env IMGFLEET_REDIS)', process.env.IMGFLEET_REDIS)
    .option('--shared-fs', 'cluster mode: pass file paths instead of bytes (every worker sees the same files)');
}

/** The tiling options shared by run and process. */
export function withTilingOptions(command: Command): Command {
  return command
    .option('--tile <size>', 'run each image as tiles of this many pixels a side, on the pool or the cluster (see README: Tiling)', positiveInteger)
    .option('--tile-threshold <megapixels>', 'run images larger than this as tiles when the pipeline allows it', positiveNumber, 16);
}

export interface TilingFlags {
  tile?: number;
  tileThreshold: number;
}

export function tilingChoice(flags: TilingFlags): TilingChoice {
  return { tileSize: flags.tile, thresholdPixels: flags.tileThreshold * 1e6 };
}
