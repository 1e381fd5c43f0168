import { ImgfleetError, fromErrorInfo } from '../errors.js';
import { animationNotTileable, staysAnimated } from '../pipeline/animated.js';
import { decodeError, open, probe, sourceBytes, type ImageHeader, type ImageSource } from '../image/decode.js';
import { inputProfile } from '../image/input-profile.js';
import type { Frame, RawImage } from '../image/frame.js';
import { writeAtomicWith, writeFileAtomic } from '../io/atomic-write.js';
import { resolveLimits, type Limits } from '../limits.js';
import type { OpContext } from '../ops/types.js';
import { checkPlannedSizes, encodeKeepingProfile, encodeResult, encoderFor, readAssetFile, type ProcessOptions, type ProcessResult, type ProcessStats, type TilingStats } from '../pipeline/process.js';
import type { OutputFormat, PipelineSpec, ValidPipeline, ValidStep } from '../pipeline/spec.js';
import { validatePipeline } from '../pipeline/validate.js';
import type { Engine } from '../engine/types.js';
import type { Priority, TileLayout } from '../task/task.js';
import { DEFAULT_TILE_SIZE } from './choose.js';
import { tileGrid, type Tile } from './grid.js';
import { planTiling, type TilePlan } from './plan.js';
import { RawFile } from './raw-file.js';
import { MemoryStitcher, type Stitcher, type TileResult } from './stitch.js';
import { FileStitcher } from './stitch-file.js';
import { runTile } from './tile-task.js';

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
  engine?: Engine;
  /** The priority of the tiles' tasks. @defaultValue batch */
  priority?: Priority;
  /** Tile side in pixels, before the halo is added. @defaultValue 2048 */
  tileSize?: number;
  /** The pipeline's tile plan, when the caller has made it already. */
  plan?: TilePlan;
  /**
   * Tiles in flight at once; each holds its pixels in memory (and in Redis on a cluster), so
   * more than keeps the engine busy only costs memory. @defaultValue the engine's tile slots, at most 8
   */
  inFlight?: number;
  onTile?: (event: TileEvent) => void;
}

/** One tile: its pixels with the halo, how they lie, and the tiled steps. */
interface TileWork {
  pixels: Buffer;
  layout: TileLayout;
  spec: PipelineSpec;
}

/** Runs tiles: on an engine as tasks, or on the calling thread. */
interface TileRunner {
  name: string;
  slots(): Promise<number>;
  run(work: TileWork): Promise<TileResult>;
}

const CALLING_THREAD: TileRunner = {
  name: 'main',
  slots: async () => 1,
  run: async (work) => runTile(work.pixels, work.layout, validatePipeline(work.spec)),
};

function engineRunner(engine: Engine, priority: Priority, limits: Limits): TileRunner {
  return {
    name: engine.mode,
    slots: () => engine.slots('tile'),
    async run(work) {
      const outcome = await engine.run({
        source: { kind: 'bytes', bytes: work.pixels }, pipeline: work.spec, sink: { kind: 'bytes' }, tile: work.layout, priority, limits,
      });
      if (!outcome.ok) throw fromErrorInfo(outcome.error);
      const { output, body } = outcome;
      if (!output || !body) throw new ImgfleetError('INTERNAL', 'a tile came back without its pixels');
      return { pixels: body, width: output.width, height: output.height, channels: (output.channels ?? work.layout.channels) as TileResult['channels'], worker: outcome.worker, attempts: outcome.attempts };
    },
  };
}

/**
 * The processor, on tiles: the same result as processImage, made by cutting the image into
 * tiles widened by the pipeline's halo, running each on the engine, and stitching them.
 * Refuses (NOT_TILEABLE) a pipeline that needs the whole image at once.
 */
export async function processTiled(input: ImageSource, pipeline: ValidPipeline, options: TiledProcessOptions = {}): Promise<ProcessResult> {
  const started = performance.now();
  try {
    const { frame, header, stats, close } = await tiledFrame(input, pipeline, options, started, 'memory');
    try {
      return await encodeKeepingProfile(frame, pipeline, header, input, stats, started);
    } finally {
      close();
    }
  } catch (error) {
    throw decodeError(error);
  }
}

export interface TiledFileResult {
  width: number;
  height: number;
  channels: number;
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
    if (pipeline.output.maxBytes !== undefined) {
      // A byte budget tries qualities in memory; only the one that fits is written.
      const result = await encodeResult(frame, pipeline, header, stats, started);
      if (result.kind !== 'image') throw new ImgfleetError('INTERNAL', 'a tiled image yielded data');
      writeFileAtomic(outputPath, result.data);
      return { width: result.width, height: result.height, channels: result.channels, format: result.format, bytes: result.data.length, stats };
    }
    const { image, format } = encoderFor(frame, pipeline, header);
    const info = await writeAtomicWith(outputPath, (temp) => image.toFile(temp));
    stats.encodeMs = performance.now() - t0;
    stats.totalMs = performance.now() - started;
    return { width: info.width, height: info.height, channels: info.channels, format, bytes: info.size, stats };
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
    const { frame, stats, close } = await tiledFrame(input, pipeline, options, started, 'memory');
    try {
      const image = await frame.raw();
      stats.totalMs = performance.now() - started;
      return { image, stats };
    } finally {
      close();
    }
  } catch (error) {
    throw decodeError(error);
  }
}

async function tiledFrame(
  input: ImageSource, pipeline: ValidPipeline, options: TiledProcessOptions, started: number, stitchTo: 'memory' | 'file',
): Promise<{ frame: Frame; header: ImageHeader; stats: ProcessStats; close: () => void }> {
  const limits = resolveLimits(options.limits);
  const planned = options.plan ? { ok: true as const, plan: options.plan } : planTiling(pipeline);
  if (!planned.ok) throw new ImgfleetError('NOT_TILEABLE', `cannot run on tiles: ${planned.reason}`);
  const { plan } = planned;
  const header = await probe(input, limits, pipeline.input);
  if (staysAnimated(header, pipeline)) throw animationNotTileable();
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
  const stitcher: Stitcher = stitchTo === 'file'
    ? FileStitcher.create(source.width, source.height, await inputProfile(input, header))
    : new MemoryStitcher(source.width, source.height);
  let stitched: Frame;
  try {
    stats.steps.push({ op: ['decode', ...plan.before.map((s) => s.op.name)].join('+'), ms: performance.now() - t0 });
    t0 = performance.now();
    const spec = { steps: pipeline.spec.steps.slice(plan.before.length, plan.before.length + plan.tiled.length) };
    const runner = options.engine ? engineRunner(options.engine, options.priority ?? 'batch', limits) : CALLING_THREAD;
    await runTiles(source, spec, plan, tileSize, runner, options, stats.tiles!, stitcher);
    stats.steps.push({ op: `tiles(${plan.tiled.map((s) => s.op.name).join('+')})`, ms: performance.now() - t0 });
    stitched = stitcher.frame();
  } catch (error) {
    stitcher.close();
    throw error;
  } finally {
    source.close();
  }
  const frame = await applySteps(stitched, plan.after, ctx, stats);
  return { frame, header, stats, close: () => stitcher.close() };
}

/** Fans the tiles out to the runner, a bounded number at a time, and stitches what comes back. */
async function runTiles(
  source: RawFile, spec: PipelineSpec, plan: TilePlan, tileSize: number, runner: TileRunner, options: TiledProcessOptions, stats: TilingStats, stitcher: Stitcher,
): Promise<void> {
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
      const layout: TileLayout = { width: read.width, height: read.height, channels: source.channels, keep, meanGrey };
      const result = await runner.run({ pixels: source.read(read), layout, spec }).catch((error: unknown) => {
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
  const lanes = options.inFlight ?? Math.min(await runner.slots(), MAX_IN_FLIGHT);
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
