import { resolve } from 'node:path';
import { ImgfleetError, toErrorInfo } from '../errors.js';
import type { AssetLoader } from '../io/assets.js';
import { sameFile } from '../io/file-kind.js';
import { withDeadline } from '../image/deadline.js';
import { checkInputPixels, checkOutputBytes, resolveLimits, type Limits } from '../limits.js';
import { processImage, type ProcessResult } from '../pipeline/process.js';
import { validatePipeline } from '../pipeline/validate.js';
import { runTile, type TilePixels } from '../tiling/tile-task.js';
import type { TaskIo } from './task-io.js';
import { failed, type Outcome, type Task, type TileLayout } from './task.js';
import { checkWork } from './work-cost.js';

/** How the one running a task can stop it: an abort (the client went away) and a deadline. */
export interface TaskControl {
  /** Once aborted, the task stops at its next step (its reason is the outcome's error). */
  signal?: AbortSignal;
  /** Milliseconds since the epoch: libvips kills the image's work when it passes. */
  deadline?: number;
}

/** Where a task runs: a pool thread, the calling thread, or a cluster worker. */
export interface Place {
  /** The name outcomes report as their worker. */
  worker: string;
  io: TaskIo;
  /** This place's limits: a task may tighten them, never loosen them. */
  limits?: Partial<Limits>;
  assets: AssetLoader;
  /**
   * Runs the processor somewhere else on the source's bytes (a cluster worker hands each image
   * to its pool threads), with a `bytes` sink; by default the processor runs here.
   */
  processElsewhere?: (task: Task, control?: TaskControl) => Promise<Outcome>;
}

/**
 * The one executor: resolves the source, runs the processor (on a whole image or on one tile),
 * writes the sink atomically and turns every error into the outcome. Never throws.
 */
export async function executeTask(task: Task, place: Place, control: TaskControl = {}): Promise<Outcome> {
  try {
    control.signal?.throwIfAborted();
    const limits = tighterLimits(place.limits, task.limits);
    const pipeline = validatePipeline(task.pipeline, limits);
    if (sameInputAndOutput(task)) throw new ImgfleetError('BAD_USAGE', 'refusing to write the output over its input');
    if (task.tile) {
      checkTile(task.tile, limits);
      checkWork(task.tile, pipeline, limits, 'raw');
    }
    if (!pipeline.yieldsData && task.sink.kind === 'none') throw new ImgfleetError('BAD_USAGE', 'no place to put an image result');
    await place.io.checkSink(task.sink);
    if (place.processElsewhere) return await elsewhere(task, await place.io.read(task.source, limits.maxFileBytes), limits, place, control);
    // Work all in libvips reads a file itself; everything else gets the bytes.
    const path = task.work === 'libvips' && !task.tile ? await place.io.pathOf?.(task.source, limits.maxFileBytes) : undefined;
    const input = path ?? await place.io.read(task.source, limits.maxFileBytes);
    const sent = task.assets ?? {};
    const loadAsset = (name: string) => (Object.hasOwn(sent, name) ? place.io.read(sent[name], limits.maxFileBytes) : place.assets.load(name));
    const processed = await withDeadline<ProcessResult | TilePixels>(control.deadline, () => (task.tile
      ? runTile(input as Buffer, task.tile, pipeline)
      : processImage(input, pipeline, { limits, loadAsset, signal: control.signal, check: (header) => checkWork(header, pipeline, limits, header.format, header.frames) })));
    control.signal?.throwIfAborted();
    return await settle(task, processed, place, limits);
  } catch (error) {
    return failed(toErrorInfo(error), place.worker);
  }
}

/** The sink written with what the processor made, and the outcome that says so. */
async function settle(task: Task, processed: ProcessResult | TilePixels, place: Place, limits: Limits): Promise<Outcome> {
  const { worker } = place;
  if ('kind' in processed && processed.kind === 'data') return { ok: true, data: processed.data, stats: processed.stats, worker };
  const image = 'kind' in processed
    ? { body: processed.data, width: processed.width, height: processed.height, channels: processed.channels, format: processed.format }
    : { body: processed.pixels, width: processed.width, height: processed.height, channels: processed.channels, format: 'raw' as const };
  if (image.format !== 'raw') checkOutputBytes(image.body.length, limits);
  const output = { bytes: image.body.length, width: image.width, height: image.height, channels: image.channels, format: image.format };
  const { stats } = processed;
  if (task.sink.kind === 'bytes') return { ok: true, output, body: image.body, stats, worker };
  await place.io.write(task.sink, image.body);
  return { ok: true, output: task.sink.kind === 'file' ? { ...output, path: task.sink.path } : output, stats, worker };
}

/** The processor on another thread, this place's I/O around it (the image, its logos, the result). */
async function elsewhere(task: Task, input: Buffer, limits: Limits, place: Place, control: TaskControl): Promise<Outcome> {
  const keepHere = task.sink.kind === 'file' || task.sink.kind === 'blob' || task.sink.kind === 'object';
  const assets = task.assets && Object.fromEntries(await Promise.all(Object.entries(task.assets).map(
    async ([name, source]) => [name, { kind: 'bytes' as const, bytes: await place.io.read(source, limits.maxFileBytes) }],
  )));
  const outcome = await place.processElsewhere!({
    ...task, limits, source: { kind: 'bytes', bytes: input }, sink: keepHere ? { kind: 'bytes' } : task.sink, ...(assets ? { assets } : {}),
  }, control);
  if (!outcome.ok || !keepHere || !outcome.body) return outcome;
  const { body, ...rest } = outcome;
  await place.io.write(task.sink, body);
  return { ...rest, output: task.sink.kind === 'file' && rest.output ? { ...rest.output, path: task.sink.path } : rest.output };
}

/** Whether a task would write its result over its own input (a file, or an object). */
export function sameInputAndOutput({ source, sink }: { source: Task['source'] | { kind: 'store' }; sink: Task['sink'] }): boolean {
  if (source.kind === 'file' && sink.kind === 'file') return resolve(source.path) === resolve(sink.path) || sameFile(source.path, sink.path);
  return source.kind === 'object' && sink.kind === 'object' && source.bucket === sink.bucket && source.key === sink.key;
}

/** Each limit the smaller of the place's and the task's: data from a queue never raises a limit. */
export function tighterLimits(own: Partial<Limits> | undefined, asked: Partial<Limits> | undefined): Limits {
  const base = resolveLimits(own);
  if (!asked) return base;
  const tighter = { ...base };
  for (const key of Object.keys(base) as (keyof Limits)[]) {
    const value = asked[key];
    if (typeof value === 'number' && Number.isFinite(value) && value > 0 && value < base[key]) tighter[key] = value;
  }
  return tighter;
}

function checkTile(tile: TileLayout, limits: Limits): void {
  const { width, height, channels, keep } = tile;
  const whole = (n: unknown) => Number.isInteger(n) && (n as number) > 0;
  if (!whole(width) || !whole(height) || ![1, 2, 3, 4].includes(channels) || !keep || !whole(keep.width) || !whole(keep.height)
    || !Number.isInteger(keep.left) || !Number.isInteger(keep.top)) {
    throw new ImgfleetError('BAD_USAGE', 'a tile needs a whole-number size, 1 to 4 channels and a part to keep');
  }
  checkInputPixels(width, height, limits);
}

