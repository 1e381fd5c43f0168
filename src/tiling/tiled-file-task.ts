import { closeSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import sharp from 'sharp';
import { ImgfleetError, toErrorInfo } from '../errors.js';
import type { FileTask, TaskOutcome } from '../engine/types.js';
import { readJpegHeader } from '../image/jpeg-header.js';
import { validatePipeline } from '../pipeline/validate.js';
import { chooseTileSize, type TilingChoice } from './choose.js';
import { planTiling } from './plan.js';
import { processTiledFile, type TiledFileResult, type TiledProcessOptions } from './run-tiled.js';
import type { TileRunner } from './tile-task.js';

export interface TiledFileOptions extends Pick<TiledProcessOptions, 'onTile' | 'inFlight'> {
  /** Runs the tiled work when its turn comes; a batch runs one large image at a time. */
  turn?: (run: () => Promise<TiledFileResult>) => Promise<TiledFileResult>;
}

/**
 * A file task run as tiles when its image calls for it (see chooseTileSize); undefined when it
 * should run whole, so the caller hands it to its engine as usual. Never throws.
 */
export async function runTiledFileTask(
  task: FileTask, runner: TileRunner, choice: TilingChoice, options: TiledFileOptions = {},
): Promise<TaskOutcome | undefined> {
  try {
    const pipeline = validatePipeline(task.spec, { maxSteps: Number.MAX_SAFE_INTEGER });
    if (pipeline.yieldsData) return undefined;
    // A pipeline with nothing to tile (a plain resize) never needs the header read.
    if (choice.tileSize === undefined && !planTiling(pipeline).ok) return undefined;
    const size = await headerSize(task.inputPath);
    if (!size) return undefined;
    const tileSize = chooseTileSize(size, pipeline, choice);
    if (tileSize === undefined) return undefined;
    if (!task.outputPath) throw new ImgfleetError('BAD_USAGE', 'no output path for an image result');
    if (resolve(task.outputPath) === resolve(task.inputPath)) throw new ImgfleetError('BAD_USAGE', 'refusing to write the output over its input');
    const outputPath = task.outputPath;
    const { turn = (run) => run(), ...tiledOptions } = options;
    const result = await turn(() => processTiledFile(task.inputPath, outputPath, pipeline, { ...tiledOptions, limits: task.limits, runner, tileSize }));
    return {
      ok: true, worker: runner.name, stats: result.stats,
      output: { path: outputPath, bytes: result.bytes, width: result.width, height: result.height, format: result.format },
    };
  } catch (error) {
    return { ok: false, error: toErrorInfo(error), worker: runner.name };
  }
}

/**
 * Width and height from the header alone, cheaply since every image of a batch is asked: the
 * first bytes of a JPEG or PNG are read and parsed here without yielding, so a batch's images
 * reach the engine at the same pace as without tiling; anything else asks libvips. Undefined
 * when it cannot be read (the whole run then reports why).
 */
async function headerSize(path: string): Promise<{ width: number; height: number } | undefined> {
  try {
    const head = readHead(path, HEAD_BYTES);
    const jpeg = readJpegHeader(head);
    if (jpeg) return jpeg;
    if (head.length >= 24 && head.readUInt32BE(0) === PNG_SIGNATURE && head.toString('latin1', 12, 16) === 'IHDR') {
      return { width: head.readUInt32BE(16), height: head.readUInt32BE(20) };
    }
    const { width, height } = await sharp(path, { limitInputPixels: false }).metadata();
    return width && height ? { width, height } : undefined;
  } catch {
    return undefined;
  }
}

const HEAD_BYTES = 64 * 1024;
const PNG_SIGNATURE = 0x89504e47;

function readHead(path: string, bytes: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.allocUnsafe(bytes);
    return head.subarray(0, readSync(fd, head, 0, bytes, 0));
  } finally {
    closeSync(fd);
  }
}
