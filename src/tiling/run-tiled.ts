import { ImgfleetError } from '../errors.js';
import { decodeError, open, probe, sourceBytes, type ImageHeader, type ImageSource } from '../image/decode.js';
import { Frame, type RawImage } from '../image/frame.js';
import { resolveLimits } from '../limits.js';
import type { OpContext } from '../ops/types.js';
import { checkPlannedSizes, encodeResult, encoderFor, readAssetFile, type ProcessOptions, type ProcessResult, type ProcessStats, type TilingStats } from '../pipeline/process.js';
import type { PipelineSpec, ValidPipeline, ValidStep } from '../pipeline/spec.js';
import { tileGrid, type Tile } from './grid.js';
import { planTiling, type TilePlan } from './plan.js';
import { RawFile } from './raw-file.js';
import { Stitcher } from './stitch.js';
import { FileStitcher } from './stitch-file.js';
import { writeAtomicWith } from '../io/atomic-write.js';
import type { OutputFormat } from '../pipeline/spec.js';
import { runTile, type TileResult, type TileRunner } from './tile-task.js';

export const DEFAULT_TILE_SIZE = 2048;
const MAX_IN_FLIGHT = 8;

export interface TileEvent {
  tile: Tile;
  status: 'running' | 'done';
  /** Tiles done so far, and in all. */
  done: number;
  total: number;
  worker?: string;
}

export interface TiledProcessOptions extends ProcessOptions {
  /** Where tiles run. @defaultValue the calling thread */
  runner?: TileRunner;
  /** Tile side in pixels, before the halo is added. @defaultValue 2048 */
  tileSize?: number;
  /**
   * Tiles in flight at once; each holds its pixels in memory (and in Redis on a cluster), so
   * more than keeps the runner busy only costs memory. @defaultValue the runner's tile capacity, at most 8
   */
  inFlight?: number;
  onTile?: (event: TileEvent) => void;
}

const CALLING_THREAD: TileRunner = { name: 'main', capacity: 1, runTile };

/**
 * The processor, on tiles: the same result as processImage, made by cutting the image into
 * tiles widened by the pipeline's halo, running each on the runner, and stitching them.
 * Refuses (NOT_TILEABLE) a pipeline that needs the whole image at once.
 */
export async function processTiled(input: ImageSource, pipeline: ValidPipeline, options: TiledProcessOptions = {}): Promise<ProcessResult> {
  const started = performance.now();
  try {
    const { frame, header, stats } = await tiledFrame(input, pipeline, options, started, 'memory');
    return await encodeResult(frame, pipeline, header, stats, started);
  } catch (error) {
    throw decodeError(error);
  }
}

export interface TiledFileResult {
  width: number;
  height: number;
  format: OutputFormat;
  bytes: number;
  stats: ProcessStats;
}

/**
 * processTiled from a file to a file, for images too large to hold: libvips reads the input as
 * it decodes, the tiles are stitched into a file on disk, and the encoder streams from it into
 * the output (written atomically). The submitter holds only the tiles in flight.
 */
export async function processTiledFile(inputPath: string, outputPath: string, pipeline: ValidPipeline, options: TiledProcessOptions = {}): Promise<TiledFileResult> {
  const started = performance.now();
  let cleanup = () => {};
  try {
    const { frame, header, stats, close } = await tiledFrame(inputPath, pipeline, options, started, 'file');
    cleanup = close;
    const t0 = performance.now();
    const { image, format } = encoderFor(frame, pipeline, header);
    const info = await writeAtomicWith(outputPath, (temp) => image.toFile(temp));
    stats.encodeMs = performance.now() - t0;
    stats.totalMs = performance.now() - started;
    return { width: info.width, height: info.height, format, bytes: info.size, stats };
  } catch (error) {
    throw decodeError(error);
  } finally {
    cleanup();
  }
}

/** processTiled without the encoder: the output's pixels. */
export async function processTiledToPixels(input: ImageSource, pipeline: ValidPipeline, options: TiledProcessOptions = {}): Promise<{ image: RawImage; stats: ProcessStats }> {
  const started = performance.now();
  try {
    const { frame, stats } = await tiledFrame(input, pipeline, options, started, 'memory');
    const image = await frame.raw();
    stats.totalMs = performance.now() - started;
    return { image, stats };
  } catch (error) {
    throw decodeError(error);
  }
}

async function tiledFrame(
  input: ImageSource, pipeline: ValidPipeline, options: TiledProcessOptions, started: number, stitchTo: 'memory' | 'file',
): Promise<{ frame: Frame; header: ImageHeader; stats: ProcessStats; close: () => void }> {
  const limits = resolveLimits(options.limits);
  const planned = planTiling(pipeline);
  if (!planned.ok) throw new ImgfleetError('NOT_TILEABLE', `cannot run on tiles: ${planned.reason}`);
  const { plan } = planned;
  const header = await probe(input, limits);
  checkPlannedSizes(header, pipeline, limits);
  const ctx: OpContext = { loadAsset: options.loadAsset ?? readAssetFile };
  const tileSize = options.tileSize ?? DEFAULT_TILE_SIZE;
  const stats: ProcessStats = {
    input: { format: header.format, width: header.width, height: header.height, bytes: sourceBytes(input) },
    path: 'libvips', probeMs: performance.now() - started, steps: [], encodeMs: 0, totalMs: 0,
    tiles: { count: 0, size: tileSize, halo: plan.halo, workers: {}, rerun: 0 },
  };

  let t0 = performance.now();
  const source = await RawFile.write(await applySteps(open(input, header, limits), plan.before, ctx));
  const stitcher = stitchTo === 'file' ? FileStitcher.create(source.width, source.height) : new Stitcher(source.width, source.height);
  let stitched: Frame;
  try {
    stats.steps.push({ op: ['decode', ...plan.before.map((s) => s.op.name)].join('+'), ms: performance.now() - t0 });
    t0 = performance.now();
    const spec = { steps: pipeline.spec.steps.slice(plan.before.length, plan.before.length + plan.tiled.length) };
    await runTiles(source, spec, plan, tileSize, options, stats.tiles!, stitcher);
    stats.steps.push({ op: `tiles(${plan.tiled.map((s) => s.op.name).join('+')})`, ms: performance.now() - t0 });
    if (stitcher instanceof FileStitcher) {
      const { image, channels } = stitcher.result();
      stitched = Frame.open(image, { width: source.width, height: source.height }, channels);
    } else {
      stitched = Frame.fromRaw(stitcher.result());
    }
  } catch (error) {
    if (stitcher instanceof FileStitcher) stitcher.close();
    throw error;
  } finally {
    source.close();
  }
  const frame = await applySteps(stitched, plan.after, ctx, stats);
  return { frame, header, stats, close: () => { if (stitcher instanceof FileStitcher) stitcher.close(); } };
}

/** Fans the tiles out to the runner, a bounded number at a time, and stitches what comes back. */
async function runTiles(
  source: RawFile, spec: PipelineSpec, plan: TilePlan, tileSize: number, options: TiledProcessOptions, stats: TilingStats,
  stitcher: { place(keep: Tile['keep'], result: TileResult): void | Promise<void> },
): Promise<void> {
  const runner = options.runner ?? CALLING_THREAD;
  const tiles = tileGrid(source.width, source.height, tileSize, plan.halo);
  stats.count = tiles.length;
  const meanGrey = plan.needsMeanGrey ? source.meanGrey() : undefined;
  let next = 0;
  let done = 0;
  let failed = false;
  const lane = async () => {
    while (next < tiles.length && !failed) {
      const tile = tiles[next++];
      options.onTile?.({ tile, status: 'running', done, total: tiles.length });
      const { read } = tile;
      const keep = { left: tile.keep.left - read.left, top: tile.keep.top - read.top, width: tile.keep.width, height: tile.keep.height };
      const task = { pixels: source.read(read), width: read.width, height: read.height, channels: source.channels, keep, spec, meanGrey };
      const result = await runner.runTile(task).catch((error: unknown) => {
        failed = true;
        throw error;
      });
      await stitcher.place(tile.keep, result);
      const worker = result.worker ?? runner.name;
      stats.workers[worker] = (stats.workers[worker] ?? 0) + 1;
      if ((result.attempts ?? 1) > 1) stats.rerun++;
      options.onTile?.({ tile, status: 'done', done: ++done, total: tiles.length, worker });
    }
  };
  const lanes = options.inFlight ?? Math.min(await runner.tileCapacity?.() ?? runner.capacity, MAX_IN_FLIGHT);
  await Promise.all(Array.from({ length: Math.max(1, Math.min(lanes, tiles.length)) }, lane));
}

async function applySteps(frame: Frame, steps: ValidStep[], ctx: OpContext, stats?: ProcessStats): Promise<Frame> {
  for (const step of steps) {
    if (step.op.kind !== 'image') throw new ImgfleetError('INTERNAL', `${step.op.name} is not an image step`);
    const t0 = performance.now();
    frame = await step.op.apply(frame, step.params, ctx);
    stats?.steps.push({ op: step.op.name, ms: performance.now() - t0 });
  }
  return frame;
}
