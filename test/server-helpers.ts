import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { LocalEngine } from '../src/engine/local/local-engine.js';
import { ClusterEngine } from '../src/engine/redis/cluster-engine.js';
import { clusterSettings } from '../src/engine/redis/cluster-settings.js';
import type { Engine } from '../src/engine/types.js';
import { buildServer } from '../src/server/app.js';
import { assetsIn } from '../src/io/assets.js';
import type { ServerOptions } from '../src/server/options.js';
import { deleteKeys, REDIS_URL, startWorker, type WorkerProcess } from './cluster-helpers.js';
import { synthetic, toPng } from './helpers.js';

export type Mode = 'local' | 'cluster';

/** A server on the local pool, or on a real cluster (Redis + one worker process) under its own key prefix. */
export interface TestServer {
  app: FastifyInstance;
  engine: Engine;
  prefix?: string;
  close(): Promise<void>;
}

export interface Cluster {
  prefix: string;
  worker: WorkerProcess;
  stop(): Promise<void>;
}

export async function startCluster(): Promise<Cluster> {
  const prefix = `test-${randomUUID()}`;
  const worker = await startWorker(prefix, 'api-worker', ['-c', '2']);
  return {
    prefix, worker,
    async stop() {
      worker.child.kill('SIGKILL');
      await worker.exited;
      await deleteKeys(REDIS_URL, prefix);
    },
  };
}

export async function testServer(mode: Mode, cluster: Cluster | undefined, options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const settings = mode === 'cluster' ? clusterSettings(REDIS_URL, { prefix: cluster!.prefix }) : undefined;
  const engine = settings ? await ClusterEngine.open({ settings }) : new LocalEngine({ threads: 2, assets: assetsIn(options.assetsDir) });
  const app = await buildServer({ engine, ...options });
  return {
    app, engine, prefix: cluster?.prefix,
    async close() {
      await app.close();
      await engine.close();
    },
  };
}

/** A multipart body as a browser would send it. */
export async function multipart(fields: Record<string, string | { name: string; bytes: Buffer } | { name: string; bytes: Buffer }[]>): Promise<{ payload: Buffer; headers: Record<string, string> }> {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item === 'string') form.append(key, item);
      else form.append(key, new Blob([new Uint8Array(item.bytes)]), item.name);
    }
  }
  const request = new Request('http://localhost/', { method: 'POST', body: form });
  return { payload: Buffer.from(await request.arrayBuffer()), headers: { 'content-type': request.headers.get('content-type')! } };
}

/** 64×48 RGB gradient: red = x × 4, green = y × 5, blue = 200. */
export function gradientPng(): Promise<Buffer> {
  return toPng(synthetic(64, 48, 3, (x, y, c) => [x * 4, y * 5, 200][c]));
}

export async function pixels(bytes: Buffer): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** Server-Sent Events as (event, data) pairs, read from a real socket until the stream ends. */
export async function readEvents(url: string, headers: Record<string, string> = {}): Promise<{ event: string; data: any }[]> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  return text.split('\n\n').filter((block) => block.startsWith('event:')).map((block) => {
    const [eventLine, dataLine] = block.split('\n');
    return { event: eventLine.slice('event: '.length), data: JSON.parse(dataLine.slice('data: '.length)) };
  });
}
