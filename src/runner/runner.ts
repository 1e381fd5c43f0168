import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CachedResults, type CacheEvents, type Computed, type Served } from '../cache/cached-results.js';
import { cachedStats, entryOf } from '../cache/entry.js';
import type { ResultCache } from '../cache/result-cache.js';
import { resultKeyOf } from '../cache/result-key.js';
import type { Engine, EngineStatus, RunOptions } from '../engine/types.js';
import { ImgfleetError, toErrorInfo } from '../errors.js';
import { AssetLoader, type AssetPolicy } from '../io/assets.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { checkInputPixels, type Limits } from '../limits.js';
import { animationNotTileable, staysAnimated } from '../pipeline/animated.js';
import { laneFor, workInLibvips, type CallingThread } from '../pipeline/lane.js';
import type { S3Client } from '../sources/s3/s3-client.js';
import { sameInputAndOutput, tighterLimits } from '../task/execute.js';
import { readFileLimited } from '../io/read-file.js';
import { failed, type Outcome, type Task } from '../task/task.js';
import { checkWork } from '../task/work-cost.js';
import { checkTileable, tileSizeFor, type TilingChoice } from '../tiling/choose.js';
import { planTiling, type TilePlan, type TilePlanResult } from '../tiling/plan.js';
import type { ImageRequest } from './request.js';
import { headerSize, sourceDigest, sourceHead, type HeaderSize } from './source-facts.js';
import type { EntryMeta } from '../cache/entry.js';
import { S3Cache } from '../cache/s3-cache.js';
import { CONTENT_TYPES } from '../image/encode.js';

/**
 * The lane in the address of an object's result: the submitter does not read the object, so
 * it cannot know which lane a worker will take (see the README: the result cache).
 */
const UNREAD_LANE = 'unread';
/** The facts of an image whose source the submitter does not open (one object for them all). */
const UNREAD: Promise<Facts> = Promise.resolve({ lane: UNREAD_LANE, inLibvips: false });

export interface RunnerOptions {
  engine: Engine;
  /** Results by content address; none (or a NoCache) computes every image. */
  cache?: ResultCache;
  cacheEvents?: CacheEvents;
  /** When images run as tiles. @defaultValue images whose filters see over 16 MP, when the pipeline allows */
  tiling?: TilingChoice;
  /** Limits of every image; a request may tighten them. */
  limits?: Partial<Limits>;
  /** Logos for the steps a tiled image runs here (after its tiles). @defaultValue any path */
  assets?: AssetPolicy;
  /** Where a tiled image that came as bytes is put while it runs. @defaultValue the system temp dir */
  scratchDir?: string;
  /** Each image the engine computed (not the ones served from the cache), as it settles. */
  onComputed?: (outcome: Outcome) => void;
  /** The object store of object sources and sinks: for a large image run as tiles here, and results from the cache. */
  store?: S3Client;
  /** What else this thread does: a server's thread keeps no work on pixels (see CallingThread). @defaultValue 'free' */
  callingThread?: CallingThread;
}

/** What the runner learns of a request once: whether it runs as tiles (and their plan), and its lane. */
interface Facts {
  tileSize?: number;
  plan?: TilePlan;
  lane: string;
  /** All the work happens in libvips's threads (see Task.work). */
  inLibvips: boolean;
  /** The input's pixels, from its header, for work in libvips (see Task.pixels). */
  pixels?: number;
}

/**
 * The one place that decides, once per image: the cache (by content address), then whether to
 * tile, then the engine. Every command, route and job goes through it, with any engine.
 */
export class Runner {
  readonly engine: Engine;
  private readonly results?: CachedResults;
  private readonly assets: AssetLoader;
  /** Large images take turns: the tiles of one already fill the engine. */
  private tiledTurn: Promise<unknown> = Promise.resolve();
  private readonly learnt = new WeakMap<ImageRequest, Promise<Facts>>();
  private readonly digests = new WeakMap<ImageRequest, Promise<string>>();
  private readonly plans = new WeakMap<ImageRequest['pipeline'], TilePlanResult>();
  /** The limits of requests that ask for none, and of those that ask for the same ones (a batch's). */
  private readonly ownLimits: Limits;
  private readonly limitsAsked = new WeakMap<Partial<Limits>, Limits>();

  constructor(private readonly options: RunnerOptions) {
    this.engine = options.engine;
    if (options.cache && options.cache.kind !== 'none') this.results = new CachedResults(options.cache, options.cacheEvents);
    this.assets = new AssetLoader(options.assets ?? { kind: 'paths' });
    this.ownLimits = Object.freeze(tighterLimits(options.limits, undefined));
  }

  /** A request's limits, one frozen object for every request that asks the same (so engines may group them by identity). */
  private limitsOf(request: ImageRequest): Limits {
    const asked = request.limits;
    if (!asked) return this.ownLimits;
    let limits = this.limitsAsked.get(asked);
    if (!limits) this.limitsAsked.set(asked, (limits = Object.freeze(tighterLimits(this.options.limits, asked))));
    return limits;
  }

  /** Runs one image; never throws: failures come back as the outcome. */
  async run(request: ImageRequest): Promise<Outcome> {
    try {
      if (sameInputAndOutput(request)) throw new ImgfleetError('BAD_USAGE', 'refusing to write the output over its input');
      const limits = this.limitsOf(request);
      request.signal?.throwIfAborted();
      const facts = await this.facts(request, limits);
      const { lane } = facts;
      if (!this.results) return await this.compute(request, limits, facts);
      const digest = await this.digest(request, limits);
      const { spec } = request.pipeline;
      const key = resultKeyOf(digest, spec, lane);
      if (request.sink.kind === 'object' && this.results.cache instanceof S3Cache) return await this.copiedInStore(key, request, limits, facts, this.results.cache);
      const served = await this.results.serve(key, async () => {
        const outcome = await this.compute(request, limits, facts);
        return this.keepable(outcome, request, (ran) => (ran === lane || lane === UNREAD_LANE ? undefined : resultKeyOf(digest, spec, ran)));
      });
      return await this.deliver(served, request, () => this.compute(request, limits, facts));
    } catch (error) {
      return failed(toErrorInfo(error), this.engine.mode);
    }
  }

  /**
   * The content address of a request's result (its ETag), without running it: a digest of the
   * source, the pipeline and the lane that would make it. Running the same request afterwards
   * reuses what this learnt.
   */
  async address(request: ImageRequest): Promise<string> {
    const limits = this.limitsOf(request);
    const { lane } = await this.facts(request, limits);
    const digest = await this.digest(request, limits);
    return resultKeyOf(digest, request.pipeline.spec, lane);
  }

  /**
   * An object sink with the cache in the same store: a kept result is copied to the sink, and a
   * computed one into the cache, inside the store, so the submitter never reads their bytes.
   */
  private async copiedInStore(key: string, request: ImageRequest, limits: Limits, facts: Facts, cache: S3Cache): Promise<Outcome> {
    const sink = request.sink as Extract<ImageRequest['sink'], { kind: 'object' }>;
    const to = { bucket: sink.bucket, key: sink.key };
    const events = this.options.cacheEvents ?? {};
    const kept = await cache.copyTo(key, to).catch((error: unknown) => {
      events.failed?.(error);
      return undefined;
    });
    if (kept?.meta.kind === 'image') {
      events.hit?.();
      const { format = 'png', width = 0, height = 0 } = kept.meta;
      return { ok: true, output: { bytes: kept.bytes, width, height, format }, stats: cachedStats(kept.meta), worker: 'cache', cache: 'hit' };
    }
    events.miss?.();
    const outcome = await this.compute(request, limits, facts);
    if (!outcome.ok || !outcome.output || outcome.output.format === 'raw') return outcome;
    const { format, width, height } = outcome.output;
    const meta: EntryMeta = { kind: 'image', format, width, height, input: outcome.stats.input };
    await cache.copyFrom(key, to, meta).catch((error: unknown) => events.failed?.(error));
    return { ...outcome, cache: 'miss' };
  }

  /** What the decisions need, learnt once per request: whether it tiles, its lane, and where its work happens. */
  private facts(request: ImageRequest, limits: Limits): Promise<Facts> {
    // An object is not read unless its pipeline could run as tiles: then its first bytes tell its size.
    // The lane names a cached result, and where the work happens matters only to a local pool: a
    // cluster's submitter without a cache or tiles need not open the source at all.
    if ((request.source.kind === 'object' || (!this.results && this.engine.mode === 'cluster')) && !this.mayTile(request)) return UNREAD;
    let known = this.learnt.get(request);
    if (!known) {
      known = (async () => {
        const head = await sourceHead(request.source, this.options.store);
        if (request.source.kind === 'object') {
          const tiles = await this.tileSizeFor(request, head, limits);
          return { ...tiles, lane: tiles.tileSize === undefined ? UNREAD_LANE : 'libvips', inLibvips: false };
        }
        const tiles = await this.tileSizeFor(request, head, limits);
        const whole = tiles.tileSize === undefined;
        const inLibvips = whole ? workInLibvips(head, request.pipeline, this.options.callingThread) : undefined;
        return { ...tiles, lane: whole ? laneFor(head, request.pipeline) : 'libvips', inLibvips: inLibvips !== undefined, pixels: inLibvips?.pixels };
      })();
      this.learnt.set(request, known);
    }
    return known;
  }

  private digest(request: ImageRequest, limits: Limits): Promise<string> {
    let known = this.digests.get(request);
    if (!known) {
      known = sourceDigest(request.source, limits.maxFileBytes, this.options.store);
      this.digests.set(request, known);
    }
    return known;
  }

  /** Resolves once the results answered so far are in the cache: call it before the cache closes. */
  settled(): Promise<void> {
    return this.results?.settled() ?? Promise.resolve();
  }

  slots(kind: 'image' | 'tile'): Promise<number> {
    return this.engine.slots(kind);
  }

  status(): Promise<EngineStatus> {
    return this.engine.status();
  }

  /**
   * The tile size to run an image with, or undefined to run it whole; refuses a forced size the
   * pipeline cannot take, too many tiles, and a tiled image over the work limit (the executor
   * checks whole images itself, before decoding them). The pipeline is planned once here, and the
   * plan goes on to the tiles.
   */
  private async tileSizeFor(request: ImageRequest, head: Uint8Array, limits: Limits): Promise<{ tileSize?: number; plan?: TilePlan }> {
    const choice = request.tiling ?? this.options.tiling ?? {};
    // A pipeline with nothing to tile (a plain resize, a histogram) never needs the header read.
    if (!this.mayTile(request)) return {};
    const planned = this.planned(request.pipeline);
    if (!planned.ok) return {};
    const size = await headerSize(request.source, head);
    if (size && isAnimation(size, request.pipeline)) {
      if (choice.tileSize !== undefined) throw animationNotTileable();
      return {};
    }
    const tileSize = choice.tileSize ?? (size ? tileSizeFor(size, planned.plan, choice) : undefined);
    if (tileSize === undefined) return {};
    if (size) {
      checkInputPixels(size.width, size.height, limits);
      checkTileCount(size, tileSize);
      checkWork(size, request.pipeline, limits, request.pipeline.output.format);
    }
    return { tileSize, plan: planned.plan };
  }

  /** Whether the image could run as tiles (the pipeline has steps to tile); refuses a tile size asked for a pipeline that has none. */
  private mayTile(request: ImageRequest): boolean {
    const planned = this.planned(request.pipeline);
    checkTileable(request.pipeline, request.tiling ?? this.options.tiling ?? {}, planned);
    return planned.ok;
  }

  /** A pipeline's tile plan, made once: every image of a batch shares its pipeline. */
  private planned(pipeline: ImageRequest['pipeline']): TilePlanResult {
    let planned = this.plans.get(pipeline);
    if (!planned) this.plans.set(pipeline, (planned = planTiling(pipeline)));
    return planned;
  }

  private compute(request: ImageRequest, limits: Limits, facts: Facts): Promise<Outcome> {
    const { tileSize, plan } = facts;
    const outcome = tileSize === undefined || !plan ? this.computeWhole(request, limits, facts) : this.computeTiled(request, limits, tileSize, plan);
    const { onComputed } = this.options;
    return onComputed ? outcome.then((settled) => { onComputed(settled); return settled; }) : outcome;
  }

  private async computeWhole(request: ImageRequest, limits: Limits, facts: Facts): Promise<Outcome> {
    const source = request.source.kind === 'store' ? { kind: 'bytes' as const, bytes: await request.source.source.bytes() } : request.source;
    const task: Task = { source, pipeline: request.pipeline.spec, sink: request.sink, priority: request.priority, limits };
    if (request.assets) task.assets = request.assets;
    if (facts.inLibvips) {
      task.work = 'libvips';
      task.pixels = facts.pixels;
    }
    return this.engine.run(task, request.signal ? { signal: request.signal } : undefined);
  }

  /** A large image as tiles on the engine, from a file to a file (bytes are put in scratch files first). */
  private computeTiled(request: ImageRequest, limits: Limits, tileSize: number, plan: TilePlan): Promise<Outcome> {
    const run = async (): Promise<Outcome> => {
      const scratch = join(this.options.scratchDir ?? tmpdir(), `imgfleet-tiled-${randomUUID()}`);
      try {
        const { source, sink } = request;
        let input: string;
        if (source.kind === 'file') input = source.path;
        else {
          await mkdir(scratch, { recursive: true, mode: 0o700 });
          input = join(scratch, 'input');
          // A large object streams into a scratch file: the tiles are cut from there.
          if (source.kind === 'object') await this.needStore().download({ bucket: source.bucket, key: source.key }, input, limits.maxFileBytes);
          else await writeFile(input, source.kind === 'bytes' ? source.bytes : await source.source.bytes(), { mode: 0o600 });
        }
        if (sink.kind === 'none') throw new ImgfleetError('BAD_USAGE', 'no place to put an image result');
        if (sink.kind !== 'file') await mkdir(scratch, { recursive: true, mode: 0o700 });
        const output = sink.kind === 'file' ? sink.path : join(scratch, 'output');
        // Loaded with the first tiled image: most runs tile none, and it cost every run 10 ms.
        const { processTiledFile } = await import('../tiling/run-tiled.js');
        const result = await processTiledFile(input, output, request.pipeline, {
          engine: withSignal(this.engine, request.signal), priority: request.priority, tileSize, plan, limits, onTile: request.onTile, loadAsset: (name) => this.loadAsset(request, name, limits),
        });
        const info = { bytes: result.bytes, width: result.width, height: result.height, format: result.format, channels: result.channels };
        const base = { ok: true as const, stats: result.stats, worker: this.engine.mode };
        if (sink.kind === 'bytes') return { ...base, output: info, body: await readFile(output) };
        if (sink.kind === 'object') {
          await this.needStore().put({ bucket: sink.bucket, key: sink.key }, await readFile(output), { contentType: CONTENT_TYPES[result.format] });
          return { ...base, output: info };
        }
        return { ...base, output: { ...info, path: output } };
      } catch (error) {
        return failed(toErrorInfo(error), this.engine.mode);
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    };
    const result = this.tiledTurn.then(run);
    this.tiledTurn = result.catch(() => {});
    return result;
  }

  private needStore(): S3Client {
    if (!this.options.store) throw new ImgfleetError('INTERNAL', 'an object source or sink needs the runner to have the object store');
    return this.options.store;
  }

  /** A logo for the steps a tiled image runs here: one sent with the request, or from the assets folder. */
  private async loadAsset(request: ImageRequest, name: string, limits: Limits): Promise<Buffer> {
    const sent = request.assets?.[name];
    if (!sent) return this.assets.load(name);
    return sent.kind === 'bytes' ? Buffer.from(sent.bytes.buffer, sent.bytes.byteOffset, sent.bytes.byteLength) : readFileLimited(sent.path, limits.maxFileBytes);
  }

  /**
   * What of a computed outcome the cache keeps: its entry (unless larger than the cache holds),
   * under the address of the lane that ran. An object sink's result is read back from the store
   * for a cache outside it (with --cache-s3 it is copied inside the store instead).
   */
  private async keepable(outcome: Outcome, request: ImageRequest, addressOf: (lane: string) => string | undefined): Promise<Computed> {
    if (!outcome.ok) return { outcome };
    const budget = this.options.cache?.budgetBytes ?? 0;
    let body = outcome.body;
    if (!body && outcome.output?.path && outcome.output.bytes <= budget) body = readFileSync(outcome.output.path);
    const { sink } = request;
    if (!body && sink.kind === 'object' && outcome.output && outcome.output.bytes <= budget) {
      body = (await this.needStore().get({ bucket: sink.bucket, key: sink.key }, budget)).body;
    }
    const entry = request.sink.kind === 'none' || outcome.data !== undefined || body ? entryOf(outcome, body) : undefined;
    return { outcome, entry, storeAs: outcome.stats.path === 'cache' ? undefined : addressOf(outcome.stats.path) };
  }

  /** The outcome for this request: its own computation, or the kept result written to its sink. */
  private async deliver(served: Served, request: ImageRequest, computeOwn: () => Promise<Outcome>): Promise<Outcome> {
    if (served.cache === 'miss') return served.outcome.ok ? { ...served.outcome, cache: 'miss' } : served.outcome;
    // The request it joined was cancelled (its client went away); this one still waits.
    if (served.cache === 'shared' && !served.outcome.ok && served.outcome.error.code === 'CANCELLED' && !request.signal?.aborted) return computeOwn();
    if (served.cache === 'shared' && !served.outcome.ok) return served.outcome;
    const { entry } = served;
    // Shared with a computation whose result was too large to keep: this request computes its own.
    if (!entry) return computeOwn();
    const from = served.cache === 'shared' && served.outcome.ok ? served.outcome : undefined;
    const stats = from?.stats ?? cachedStats(entry.meta);
    const worker = from?.worker ?? 'cache';
    const cache = served.cache;
    if (entry.meta.kind === 'data') return { ok: true, data: JSON.parse(entry.body.toString('utf8')), stats, worker, cache };
    const { format = 'png', width = 0, height = 0 } = entry.meta;
    const output = { bytes: entry.body.length, width, height, format };
    const { sink } = request;
    if (sink.kind === 'bytes') return { ok: true, output, body: entry.body, stats, worker, cache };
    if (sink.kind === 'none') return failed({ code: 'BAD_USAGE', message: 'no place to put an image result' }, worker);
    if (sink.kind === 'object') {
      await this.needStore().put({ bucket: sink.bucket, key: sink.key }, entry.body, { contentType: CONTENT_TYPES[format] });
      return { ok: true, output, stats, worker, cache };
    }
    writeFileAtomic(sink.path, entry.body);
    return { ok: true, output: { ...output, path: sink.path }, stats, worker, cache };
  }
}

/** Most tiles one image may be cut into: each is a task, and a few thousand already keep a cluster busy. */
export const MAX_TILES = 4096;

function checkTileCount(size: { width: number; height: number }, tileSize: number): void {
  const count = Math.ceil(size.width / tileSize) * Math.ceil(size.height / tileSize);
  if (count > MAX_TILES) {
    throw new ImgfleetError('NOT_TILEABLE', `tiles of ${tileSize} px would cut this ${size.width}×${size.height} image into ${count} tiles, over the limit of ${MAX_TILES}: choose a larger tile size`);
  }
}

/** The engine, with every task it is given tied to one request's signal (the tiles of one image). */
function withSignal(engine: Engine, signal: AbortSignal | undefined): Engine {
  if (!signal) return engine;
  return {
    mode: engine.mode,
    run: (task: Task, options?: RunOptions) => engine.run(task, { ...options, signal }),
    slots: (kind) => engine.slots(kind),
    status: () => engine.status(),
    close: () => engine.close(),
  };
}

/** Whether the header is of an animation that `pipeline` keeps animated: it runs whole, never as tiles. */
function isAnimation(size: HeaderSize, pipeline: ImageRequest['pipeline']): boolean {
  return size.format !== undefined && (size.format === 'gif' || size.format === 'webp') && staysAnimated({ format: size.format, frames: size.frames ?? 1 }, pipeline);
}
