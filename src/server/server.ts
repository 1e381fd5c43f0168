import { openCache, type CacheChoice } from '../cache/open-cache.js';
import { DEFAULT_ENVIRONMENT, type Environment } from '../config.js';
import { createEngine } from '../engine/create-engine.js';
import { loadSharp } from '../image/sharp-module.js';
import { warmUpLaneChoice } from '../pipeline/warm-up.js';
import { assetsIn } from '../io/assets.js';
import type { Presets } from '../pipeline/presets.js';
import { ImgfleetError } from '../errors.js';
import { DEFAULT_LIMITS, type Limits } from '../limits.js';
import { HttpOriginStore, type HttpOriginOptions } from '../sources/http-origin.js';
import { LocalFolderStore } from '../sources/local-folder.js';
import type { S3Settings } from '../sources/s3/s3-settings.js';
import type { SourceStore } from '../sources/source-store.js';
import { buildServer } from './app.js';
import type { ServerOptions } from './options.js';
import { isLoopback } from './loopback.js';

export interface ServeOptions {
  host: string;
  port: number;
  redis?: string;
  token?: string;
  /** Serving beyond loopback without a token must be asked for. */
  allowNoAuth?: boolean;
  threads?: number;
  limits?: Partial<Limits>;
  maxFiles?: number;
  resultTtlMs?: number;
  dataDir?: string;
  assetsDir?: string;
  log?: boolean;
  /** The result cache: a folder in local mode, Redis in cluster mode (the queue's, or `cache.redis`). */
  cache?: CacheChoice;
  /** Image URL sources: a local folder, or an HTTP origin. */
  sourceDir?: string;
  sourceUrl?: Omit<HttpOriginOptions, 'maxBytes'>;
  /** Image URL sources in a bucket: s3://bucket/prefix/. */
  sourceS3?: string;
  /** The object store of --source-s3 and --cache-s3 (from --s3-endpoint and the AWS variables). */
  s3?: S3Settings;
  signingKeys?: string[];
  allowUnsigned?: boolean;
  maxAgeSeconds?: number;
  /** Image URLs honour Sec-CH-DPR / DPR and Sec-CH-Width / Width request headers. */
  clientHints?: boolean;
  /** Let the queue dashboard change jobs. */
  adminWrite?: boolean;
  /** Named pipelines (preset:NAME), and whether image URLs may use nothing else. */
  presets?: Presets;
  presetsOnly?: boolean;
  /** Protections against abuse; see ServerOptions (src/server/options.ts) for each and its default. */
  guards?: Pick<ServerOptions, 'maxInflightBytes' | 'maxJobBytes' | 'maxDiskBytes' | 'allowedHosts' | 'allowedOrigins' | 'requestTimeoutMs'>;
  /** The key prefix and cluster timings. @defaultValue the defaults */
  environment?: Environment;
  /** Where lines about the link to Redis go. */
  logLine?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  /** Where results are cached: disk, redis or none. */
  cache: string;
  close(): Promise<void>;
}

export { isLoopback };

/** `imgfleet serve`: the engine, the app, listening; close() drains requests, then the engine. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  if (!options.token && !options.allowNoAuth && !isLoopback(options.host)) {
    throw new ImgfleetError('BAD_USAGE', `serving on ${options.host} without a token: set --token (or IMGFLEET_TOKEN), or pass --no-auth to serve it open`);
  }
  if ([options.sourceDir, options.sourceUrl, options.sourceS3].filter(Boolean).length > 1) {
    throw new ImgfleetError('BAD_USAGE', 'choose one image source: --source-dir, --source-url or --source-s3');
  }
  if (options.presetsOnly && (options.presets?.size ?? 0) === 0) throw new ImgfleetError('BAD_USAGE', '--presets-only needs presets: give --presets <file>');
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const store = options.sourceS3 || options.cache?.s3 ? await openStore(options.s3) : undefined;
  let sources: SourceStore | undefined = options.sourceDir ? new LocalFolderStore(options.sourceDir, limits.maxFileBytes)
    : options.sourceUrl ? new HttpOriginStore({ ...options.sourceUrl, maxBytes: limits.maxFileBytes }) : undefined;
  if (options.sourceS3) {
    const [{ S3SourceStore }, { parseObjectUrl }] = await Promise.all([import('../sources/s3/s3-source-store.js'), import('../sources/s3/object-url.js')]);
    sources = new S3SourceStore(store!, parseObjectUrl(options.sourceS3, '--source-s3'), limits.maxFileBytes);
  }
  const environment = options.environment ?? DEFAULT_ENVIRONMENT;
  const cache = await openCache({ ...options.cache, redis: options.cache?.redis ?? options.redis, prefix: environment.prefix }, options.logLine, store);
  // A server starts without its Redis and keeps retrying: /readyz says so meanwhile.
  const engine = await createEngine({
    redis: options.redis, threads: options.threads, environment, failFast: false, log: options.logLine,
    assets: assetsIn(options.assetsDir), limits, warm: true,
  });
  const app = await buildServer({
    engine, token: options.token, limits: options.limits, maxFiles: options.maxFiles, resultTtlMs: options.resultTtlMs,
    dataDir: options.dataDir, assetsDir: options.assetsDir, cache, sources, adminWrite: options.adminWrite,
    presets: options.presets, presetsOnly: options.presetsOnly,
    signingKeys: options.signingKeys, allowUnsigned: options.allowUnsigned, maxAgeSeconds: options.maxAgeSeconds, clientHints: options.clientHints,
    logger: options.log ? { level: 'info' } : false, listenHost: options.host, ...options.guards,
  }).catch(async (error: unknown) => {
    await engine.close();
    await cache.close();
    throw error;
  });
  // Loaded before the server takes requests, so that the first image does not wait for it.
  loadSharp();
  warmUpLaneChoice();
  await engine.warmedUp?.();
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (error) {
    await app.close();
    await engine.close();
    await cache.close();
    store?.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    cache: cache.kind,
    async close() {
      await app.close();
      await engine.close();
      await cache.close();
      store?.close();
    },
  };
}

async function openStore(settings: S3Settings | undefined) {
  if (!settings) throw new ImgfleetError('BAD_USAGE', '--source-s3 and --cache-s3 need the object store\'s settings');
  const { S3Client } = await import('../sources/s3/s3-client.js');
  return new S3Client(settings);
}
