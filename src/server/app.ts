import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import { mkdirSync, readFileSync } from 'node:fs';
import type { ClusterEngine } from '../engine/redis/cluster-engine.js';
import { assetsIn } from '../io/assets.js';
import { operationSchemas, outputSchema } from '../ops/describe.js';
import { Runner } from '../runner/runner.js';
import { registerDashboard } from './admin.js';
import { Admission } from './admission.js';
import { installAuth } from './auth.js';
import type { ServerContext } from './context.js';
import { installErrorHandler } from './error-handler.js';
import { JobStore } from './job-store.js';
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
 * serve` listens. Every route runs its images through one runner (cache → tiles → engine).
 * Closing it finishes the requests in flight, then removes the job files. The engine and the
 * cache belong to the caller.
 */
export async function buildServer(serverOptions: ServerOptions): Promise<FastifyInstance> {
  const options = resolveServerOptions(serverOptions);
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: options.limits.maxFileBytes, forceCloseConnections: 'idle' });
  const { engine } = options;

  const pending = new Admission(options.maxPending, 'requests');
  const metrics = new ServerMetrics({
    queueDepth: async () => pending.inUse + jobs.unfinishedImages() + (engine.mode === 'cluster' ? (await engine.status()).queueDepth : 0),
    liveWorkers: async () => {
      const status = await engine.status();
      return status.mode === 'cluster' ? status.workers.length : status.threads;
    },
    cacheBytes: () => options.cache.storedBytes(),
  });
  const runner = new Runner({
    engine, cache: options.cache, cacheEvents: metrics.cacheEvents(), limits: options.limits,
    assets: assetsIn(options.assetsDir), scratchDir: options.dataDir, onComputed: (outcome) => metrics.recordImage(outcome),
  });
  const jobs = new JobStore({
    runner, dataDir: options.dataDir, resultTtlMs: options.resultTtlMs,
    onFinished: (job) => {
      const { done, failed } = job.batch.summary();
      metrics.jobs.inc({ outcome: failed === 0 ? 'done' : done === 0 ? 'failed' : 'partial' });
    },
  });
  const ctx: ServerContext = { options, runner, jobs, metrics, pending };

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
  if (engine.mode === 'cluster') await registerDashboard(app, (engine as ClusterEngine).queue, { write: options.adminWrite });

  // Closing waits for the requests in flight; a kept-alive connection that goes idle after the
  // close began would otherwise hold it open until its keep-alive time ran out.
  let closingIdle: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    closingIdle = setInterval(() => app.server.closeIdleConnections(), 50);
  });
  app.addHook('onClose', async () => {
    clearInterval(closingIdle);
    await jobs.close();
  });
  return app;
}
