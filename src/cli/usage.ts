/**
 * What the commands share. Light on purpose: every command is defined at start-up, so nothing
 * here may load sharp, BullMQ or Fastify; commands import those inside their actions.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { statSync } from 'node:fs';
import type { Environment } from '../config.js';
import { ImgfleetError } from '../errors.js';
import type { ValidPipeline } from '../pipeline/spec.js';
import type { TilingChoice } from '../tiling/choose.js';

/** What a command's action leaves for `main`: its exit status (0 done, 1 some work failed, 2 bad usage). */
export interface CommandResult {
  code: number;
}

/** What every command is built with. */
export interface CommandContext {
  env: Environment;
  result: CommandResult;
}

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

export function port(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port from 0 to 65535 (0: any free one), got "${text}"`);
  return n;
}

/** A name shown in lists and reports: some visible text, on one line. */
export function displayName(text: string): string {
  if (text.trim() === '' || /[\u0000-\u001f\u007f]/.test(text) || text.length > 100) throw new InvalidArgumentError('expected 1 to 100 characters on one line');
  return text;
}

/** An http:// or https:// URL. */
export function httpUrl(text: string): string {
  let scheme: string | undefined;
  try {
    scheme = new URL(text).protocol;
  } catch {
    scheme = undefined;
  }
  if (scheme !== 'http:' && scheme !== 'https:') throw new InvalidArgumentError(`expected an http:// or https:// URL, e.g. http://127.0.0.1:8080`);
  return text;
}

/** A folder that must be there already (one to read from). */
export function existingFolder(text: string): string {
  const info = statSync(text, { throwIfNoEntry: false });
  if (!info) throw new InvalidArgumentError(`no such folder`);
  if (!info.isDirectory()) throw new InvalidArgumentError(`not a folder`);
  return text;
}

/** A folder that is made when it is not there (one to write to); a file in its place is refused. */
export function folderToMake(text: string): string {
  const info = statSync(text, { throwIfNoEntry: false });
  if (info && !info.isDirectory()) throw new InvalidArgumentError(`a file is there, not a folder`);
  return text;
}

/** The same for a repeatable option. */
export function collectExistingFolders(value: string, previous: string[] = []): string[] {
  return collect(existingFolder(value), previous);
}

/** Repeatable options (`--shared-fs-root a --shared-fs-root b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A pipeline from -p (compact, JSON or @file), its presets expanded from --presets (or IMGFLEET_PRESETS). */
export async function loadPipeline(text: string, presetsFile?: string): Promise<ValidPipeline> {
  const [{ readPipelineArgument }, { validatePipeline }, { expandPresets }] = await Promise.all([
    import('../pipeline/load.js'), import('../pipeline/validate.js'), import('../pipeline/presets.js'),
  ]);
  return validatePipeline(expandPresets(await readPipelineArgument(text), await readPresets(presetsFile)));
}

/** The presets of a file, each checked; none without a file. */
export async function readPresets(path: string | undefined): Promise<import('../pipeline/presets.js').Presets> {
  const [{ loadPresets, NO_PRESETS }, { validatePipeline }] = await Promise.all([import('../pipeline/presets.js'), import('../pipeline/validate.js')]);
  return path ? loadPresets(path, (spec) => validatePipeline(spec).spec) : NO_PRESETS;
}

/** --presets, shared by the commands that take a pipeline. */
export function withPresetsOption(command: Command, env: Environment): Command {
  return command.option('--presets <file>', 'a JSON file of named pipelines, used as preset:NAME (env IMGFLEET_PRESETS)', env.presets);
}

export function usageError(message: string): ImgfleetError {
  return new ImgfleetError('BAD_USAGE', message);
}

/** Whether to draw live progress: only for a person at a terminal. */
export function interactive(env: Environment, json = false): boolean {
  return env.interactive && !json;
}

/** One line for a person at the terminal, from a long-running command (a worker, a server). */
export function logLine(line: string): void {
  console.error(`imgfleet: ${line}`);
}

export const PIPELINE_HELP = 'pipeline: compact syntax (resize:800,sharpen,output:webp:80), inline JSON, or @file.json; see `imgfleet ops`';

/** The cluster options shared by run, process and histogram. */
export function withClusterOptions(command: Command, env: Environment): Command {
  return command
    .option('--redis <url>', 'send the work to the cluster on this Redis (env IMGFLEET_REDIS)', env.redis)
    .option('--shared-fs', 'cluster mode: pass file paths instead of bytes (every worker sees the same files, under its --shared-fs-root)');
}

/** The object store option shared by run, process, histogram and worker; the rest comes from the AWS variables. */
export function withStoreOptions(command: Command): Command {
  return command
    .option('--s3-endpoint <url>', 's3:// URLs use this S3-compatible store, e.g. http://10.0.0.7:9000 for MinIO (env AWS_ENDPOINT_URL_S3; default AWS S3 in AWS_REGION)');
}

/** Where run and process send the tiles of a large image on a cluster with a store. */
export function withScratchOption(command: Command): Command {
  return command
    .option('--s3-scratch <url>', 'cluster mode with s3:// inputs or outputs: tiles of large images travel through this prefix (default: imgfleet-scratch/ in the bucket; workers need an --s3-root that covers it)');
}

export interface StoreFlags {
  s3Endpoint?: string;
  s3Scratch?: string;
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
