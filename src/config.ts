import { ImgfleetError } from './errors.js';

/**
 * Every setting imgfleet takes from the environment, read once when a command starts and passed
 * down from there; nothing else reads `process.env`. Flags given on the command line win.
 */
export interface Environment {
  /** IMGFLEET_REDIS: the cluster's Redis. */
  redis?: string;
  /** IMGFLEET_PREFIX: the key prefix that separates clusters sharing one Redis. @defaultValue imgfleet */
  prefix: string;
  /** IMGFLEET_TOKEN: the bearer token of the API and the dashboard. */
  token?: string;
  /** IMGFLEET_KEY: image URL signing keys, comma-separated; the first one signs. */
  signingKeys: string[];
  /** IMGFLEET_LOCK_MS: how long a worker's hold on a job lasts without renewal. @defaultValue 30 000 */
  lockMs: number;
  /** IMGFLEET_STALLED_MS: how often jobs of dead workers are looked for. @defaultValue half the lock time, at least 1 000 */
  stalledMs: number;
  /** IMGFLEET_MAX_STALLED: how many times a job may lose its worker (to a crash, a kill, a cut) before it fails. @defaultValue 3 */
  maxStalled: number;
  /** IMGFLEET_HEARTBEAT_MS: how often a worker says it is alive. @defaultValue 2 000 */
  heartbeatMs: number;
  /** IMGFLEET_DRAIN_MS: how long a worker waits for running jobs when stopping. @defaultValue 60 000 */
  drainMs: number;
  /** IMGFLEET_ALIVE_FILE: the file a worker rewrites while alive, for `imgfleet health --worker`. */
  aliveFile?: string;
  /** IMGFLEET_PRESETS: a JSON file of named pipelines (see src/pipeline/presets.ts). */
  presets?: string;
  /** IMGFLEET_JPEG_TURBO=off: never use the optional libjpeg-turbo binding (every image takes the libvips lane). */
  jpegTurbo: boolean;
  /** IMGFLEET_LIBWEBP=off: never use the system's libwebp directly (libvips reads and writes every WebP). */
  libwebp: boolean;
  /** CI or a non-terminal stderr: no progress bars. */
  interactive: boolean;
  /** The object store, from the standard AWS variables. */
  s3: S3Environment;
}

/** AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION (or AWS_DEFAULT_REGION), AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL). */
export interface S3Environment {
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  region?: string;
  endpoint?: string;
}

export const ENVIRONMENT_VARIABLES = [
  'IMGFLEET_REDIS', 'IMGFLEET_PREFIX', 'IMGFLEET_TOKEN', 'IMGFLEET_KEY',
  'IMGFLEET_LOCK_MS', 'IMGFLEET_STALLED_MS', 'IMGFLEET_MAX_STALLED', 'IMGFLEET_HEARTBEAT_MS', 'IMGFLEET_DRAIN_MS', 'IMGFLEET_ALIVE_FILE', 'IMGFLEET_JPEG_TURBO', 'IMGFLEET_LIBWEBP', 'IMGFLEET_PRESETS',
  'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL',
] as const;

export function readEnvironment(env: NodeJS.ProcessEnv = process.env, stderrIsTerminal = Boolean(process.stderr.isTTY)): Environment {
  const lockMs = milliseconds(env, 'IMGFLEET_LOCK_MS', 30_000);
  return {
    redis: text(env.IMGFLEET_REDIS),
    prefix: text(env.IMGFLEET_PREFIX) ?? 'imgfleet',
    token: text(env.IMGFLEET_TOKEN),
    signingKeys: (env.IMGFLEET_KEY ?? '').split(',').map((k) => k.trim()).filter(Boolean),
    lockMs,
    stalledMs: milliseconds(env, 'IMGFLEET_STALLED_MS', Math.max(1000, lockMs / 2)),
    maxStalled: count(env, 'IMGFLEET_MAX_STALLED', 3),
    heartbeatMs: milliseconds(env, 'IMGFLEET_HEARTBEAT_MS', 2000),
    drainMs: milliseconds(env, 'IMGFLEET_DRAIN_MS', 60_000),
    aliveFile: text(env.IMGFLEET_ALIVE_FILE),
    jpegTurbo: onOff(env, 'IMGFLEET_JPEG_TURBO', true),
    libwebp: onOff(env, 'IMGFLEET_LIBWEBP', true),
    presets: text(env.IMGFLEET_PRESETS),
    interactive: stderrIsTerminal && !env.CI,
    s3: {
      accessKeyId: text(env.AWS_ACCESS_KEY_ID),
      secretAccessKey: text(env.AWS_SECRET_ACCESS_KEY),
      sessionToken: text(env.AWS_SESSION_TOKEN),
      region: text(env.AWS_REGION) ?? text(env.AWS_DEFAULT_REGION),
      endpoint: text(env.AWS_ENDPOINT_URL_S3) ?? text(env.AWS_ENDPOINT_URL),
    },
  };
}

/** The defaults, for library callers that do not read the environment. */
export const DEFAULT_ENVIRONMENT: Readonly<Environment> = Object.freeze(readEnvironment({}, false));

function text(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function onOff(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const value = text(env[name])?.toLowerCase();
  if (value === undefined) return fallback;
  if (['on', '1', 'true', 'yes'].includes(value)) return true;
  if (['off', '0', 'false', 'no'].includes(value)) return false;
  throw new ImgfleetError('BAD_USAGE', `${name}: expected on or off, got "${env[name]}"`);
}

/**
 * The environment of this process, read once: for code that runs far from any command (a pool
 * thread deciding its lanes), which cannot be handed the command's reading.
 */
export function processEnvironment(): Environment {
  return (cached ??= readEnvironment());
}

let cached: Environment | undefined;

function milliseconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = text(env[name]);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new ImgfleetError('BAD_USAGE', `${name}: expected a whole number of milliseconds, got "${value}"`);
  return n;
}

function count(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = text(env[name]);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new ImgfleetError('BAD_USAGE', `${name}: expected a whole number of at least 1, got "${value}"`);
  return n;
}
