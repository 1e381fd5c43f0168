import { isIP } from 'node:net';
import { createEngine } from '../engine/create-engine.js';
import { clusterSettings } from '../engine/redis/cluster-settings.js';
import { ImgfleetError } from '../errors.js';
import type { Limits } from '../limits.js';
import { buildServer } from './app.js';

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
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** `imgfleet serve`: the engine, the app, listening; close() drains requests, then the engine. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  if (!options.token && !options.allowNoAuth && !isLoopback(options.host)) {
    throw new ImgfleetError('BAD_USAGE', `serving on ${options.host} without a token: set --token (or IMGFLEET_TOKEN), or pass --no-auth to serve it open`);
  }
  // Interactive requests go ahead of batch items on a shared cluster.
  const engine = await createEngine({ redis: options.redis, threads: options.threads, priority: options.redis ? 1 : undefined });
  const app = await buildServer({
    engine, token: options.token, limits: options.limits, maxFiles: options.maxFiles, resultTtlMs: options.resultTtlMs,
    dataDir: options.dataDir, assetsDir: options.assetsDir, cluster: options.redis ? clusterSettings(options.redis) : undefined,
    logger: options.log ? { level: 'info' } : false,
  });
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (error) {
    await app.close();
    await engine.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    async close() {
      await app.close();
      await engine.close();
    },
  };
}
