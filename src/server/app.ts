import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Queue } from 'bullmq';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CachedResults } from '../cache/cached-results.js';
import { connect, QUEUE_NAME } from '../engine/redis/cluster-settings.js';
import { listWorkers } from '../engine/redis/worker-registry.js';
import { operationSchemas, outputSchema } from '../ops/describe.js';
import { registerDashboard } from './admin.js';
import { Admission } from './admission.js';
import { installAuth } from './auth.js';
import type { ServerContext } from './context.js';
import { installErrorHandler } from './error-handler.js';
import { JobStore } from './job-store.js';
import { LogoStore } from './logo-store.js';
import { ServerMetrics } from './metrics.js';
import { resolveServerOptions, type ServerOptions } from './options.js';
import { healthRoutes } from './routes/health.js';
import { histogramRoutes } from './routes/histogram.js';
import { imageUrlRoutes } from './routes/image-url.js';
import { jobRoutes } from './routes/jobs.js';
import { pageRoutes } from './routes/page.js';
import { processRoutes } from './routes/process.js';
import { errorCodeRoutes } from './routes/error-codes.js';
import { pipelineCheckRoutes } from './routes/pipeline-check.js';
import { previewRoutes } from './routes/previews.js';
import { registryRoutes } from './routes/registry.js';

const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/**
 * The HTTP service as a Fastify instance, not yet listening: tests use `inject`, `imgfleet
 * serve` listens. Closing it finishes the requests in flight, then removes the job files.
 * The engine belongs to the caller.
 */
export async function buildServer(serverOptions: ServerOptions): Promise<FastifyInstance> {
  const options = resolveServerOptions(serverOptions);
  mkdirSync(options.dataDir, { recursive: true });
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: options.limits.maxFileBytes, forceCloseConnections: 'idle' });

  let redis: Redis | undefined;
  let queue: Queue | undefined;
  let queueRedis: Redis | undefined;
  if (options.cluster) {
    // Fails fast while Redis is away, so health checks and the worker list answer at once.
    redis = new Redis(options.cluster.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 });
    redis.on('error', () => {});
    queueRedis = connect(options.cluster);
    queue = new Queue(QUEUE_NAME, { connection: queueRedis, prefix: options.cluster.prefix });
    queue.on('error', () => {});
  }

  const pending = new Admission(options.maxPending, 'requests');
  const metrics = new ServerMetrics({
    queueDepth: async () => pending.inUse + jobs.unfinishedImages() + (queue ? await waitingJobs(queue) : 0),
    cacheBytes: () => options.cache.storedBytes(),
    liveWorkers: async () => (redis && options.cluster ? (await listWorkers(redis, options.cluster.prefix).catch(() => [])).length : options.engine.capacity / 2),
  });
  const jobs = new JobStore({
    engine: options.engine, dataDir: options.dataDir, limits: options.limits, resultTtlMs: options.resultTtlMs,
    onImage: (item) => metrics.recordImage(item.status === 'done' ? { ok: true, stats: item.stats! } : { ok: false, error: item.error ?? { code: 'INTERNAL' } }),
    onFinished: (job) => {
      const { done, failed } = job.batch.summary();
      metrics.jobs.inc({ outcome: failed === 0 ? 'done' : done === 0 ? 'failed' : 'partial' });
    },
  });
  const results = new CachedResults(options.cache, metrics.cacheEvents());
  const logos = new LogoStore(join(options.dataDir, 'logos'), options.limits);
  const ctx: ServerContext = { options, engine: options.engine, jobs, metrics, results, pending, redis, logos };

  installErrorHandler(app);
  if (options.token) installAuth(app, options.token);
  for (const type of ['application/octet-stream', /^image\//]) {
    app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: options.limits.maxFileBytes }, (_request, body, done) => done(null, body));
  }
  await app.register(multipart, { limits: { fileSize: options.limits.maxFileBytes, files: options.maxFiles } });
  await app.register(swagger, {
    openapi: {
      info: { title: 'imgfleet', version, description: 'Image pipelines over HTTP: one image at a time, or batch jobs with live progress.' },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
        schemas: { Operations: { type: 'object', properties: operationSchemas() }, Output: outputSchema() },
      },
      security: options.token ? [{ bearer: [] }] : [],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(async (scope) => {
    await healthRoutes(scope, ctx);
    await registryRoutes(scope, ctx);
    await processRoutes(scope, ctx);
    await imageUrlRoutes(scope, ctx);
    await histogramRoutes(scope, ctx);
    await jobRoutes(scope, ctx);
    await pageRoutes(scope);
    // For the page: error codes, placed pipeline problems, previews and histograms of job files.
    await errorCodeRoutes(scope);
    await pipelineCheckRoutes(scope, ctx);
    await previewRoutes(scope, ctx);
  });
  if (queue) await registerDashboard(app, queue);

  app.addHook('onClose', async () => {
    await jobs.close();
    await queue?.close();
    // BullMQ leaves a connection it was given open.
    await queueRedis?.quit().catch(() => {});
    redis?.disconnect();
  });
  return app;
}

async function waitingJobs(queue: Queue): Promise<number> {
  try {
    const counts = await queue.getJobCounts('waiting', 'prioritized', 'delayed');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  } catch {
    return 0;
  }
}
