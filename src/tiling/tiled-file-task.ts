import { resolve } from 'node:path';
import sharp from 'sharp';
import { ImgfleetError, toErrorInfo } from '../errors.js';
import { readInput } from '../engine/file-task.js';
import type { FileTask, TaskOutcome } from '../engine/types.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { validatePipeline } from '../pipeline/validate.js';
import { chooseTileSize, type TilingChoice } from './choose.js';
import { processTiled, type TiledProcessOptions } from './run-tiled.js';
import type { TileRunner } from './tile-task.js';

/**
 * A file task run as tiles when its image calls for it (see chooseTileSize); undefined when it
 * should run whole, so the caller hands it to its engine as usual. Never throws.
 */
export async function runTiledFileTask(
  task: FileTask, runner: TileRunner, choice: TilingChoice, options: Pick<TiledProcessOptions, 'onTile' | 'inFlight'> = {},
): Promise<TaskOutcome | undefined> {
  try {
    const pipeline = validatePipeline(task.spec, { maxSteps: Number.MAX_SAFE_INTEGER });
    if (pipeline.yieldsData) return undefined;
    const size = await headerSize(task.inputPath);
    if (!size) return undefined;
    const tileSize = chooseTileSize(size, pipeline, choice);
    if (tileSize === undefined) return undefined;
    if (!task.outputPath) throw new ImgfleetError('BAD_USAGE', 'no output path for an image result');
    if (resolve(task.outputPath) === resolve(task.inputPath)) throw new ImgfleetError('BAD_USAGE', 'refusing to write the output over its input');
    const input = readInput(task.inputPath, task.limits?.maxFileBytes ?? DEFAULT_LIMITS.maxFileBytes);
    const result = await processTiled(input, pipeline, { ...options, limits: task.limits, runner, tileSize });
    if (result.kind !== 'image') throw new ImgfleetError('INTERNAL', 'a tiled pipeline gave no image');
    writeFileAtomic(task.outputPath, result.data);
    return {
      ok: true, worker: runner.name, stats: result.stats,
      output: { path: task.outputPath, bytes: result.data.length, width: result.width, height: result.height, format: result.format },
    };
  } catch (error) {
    return { ok: false, error: toErrorInfo(error), worker: runner.name };
  }
}

/** Width and height from the header alone; undefined when it cannot be read (the whole run reports why). */
async function headerSize(path: string): Promise<{ width: number; height: number } | undefined> {
  try {
    const { width, height } = await sharp(path, { limitInputPixels: false }).metadata();
    return width && height ? { width, height } : undefined;
  } catch {
    return undefined;
  }
}
