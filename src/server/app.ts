import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterEngine } from '../engine/redis/cluster-engine.js';
import { assetsIn } from '../io/assets.js';
import { privateDir } from '../io/private-dir.js';
import { inputSchema, operationSchemas, outputSchema } from '../ops/describe.js';
import { Runner } from '../runner/runner.js';
import { Admission } from './admission.js';
import { installAuth } from './auth.js';
import { defaultAllowedHosts, installBrowserGuards, installSecurityHeaders } from './browser-guards.js';
import { ByteBudget } from './byte-budget.js';
import type { ImageRoute, ServerContext } from './context.js';
import { DiskQuota } from './disk-quota.js';
import { answerClientError, errorBody, installErrorHandler } from './error-handler.js';
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
import { infoRoutes } from './routes/info.js';
import { registryRoutes } from './routes/registry.js';

const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/** JSON and text bodies (a session, the dashboard's actions) are small; image bodies have routes of their own. */
const SMALL_BODY_BYTES = 64 * 1024;

/**
 * The HTTP service as a Fastify instance, not yet listening: tests use `inject`, `imgfleet
 * serve` listens. Every route runs its images through one runner (cache → tiles → engine).
 * Closing it finishes the requests in flight, then removes the job files. The engine and the
 * cache belong to the caller.
 */
export async function buildServer(serverOptions: ServerOptions): Promise<FastifyInstance> {
  const options = resolveServerOptions(serverOptions);
  privateDir(options.dataDir, 'data folder');
  // Large single images wait here while they are worked on, each removed when its response ends.
  const spillDir = mkdtempSync(join(tmpdir(), 'imgfleet-incoming-'));
  const app = Fastify({
    logger: options.logger ?? false,
    genReqId: () => randomUUID(),
    bodyLimit: SMALL_BODY_BYTES,
    forceCloseConnections: 'idle',
    requestTimeout: options.requestTimeoutMs,
    connectionTimeout: options.idleTimeoutMs,
    http: { headersTimeout: options.headersTimeoutMs, connectionsCheckingInterval: Math.min(1000, options.requestTimeoutMs) },
    clientErrorHandler: answerClientError,
    // A URL Fastify cannot even route (a bad percent-escape) is answered like every other error.
    frameworkErrors: (error, _request, raw) => {
      const { status, body } = errorBody(error);
      const reply = raw as unknown as FastifyReply;
      reply.status(status === 500 ? 400 : status).header('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'").header('X-Content-Type-Options', 'nosniff')
        .send(error.code === 'FST_ERR_BAD_URL' ? { error: { code: 'BAD_USAGE', message: 'malformed URL: a percent-escape in it is not valid' } } : body);
    },
  });
  const { engine } = options;

  const routeSlots = (what: string) => new Admission(options.maxPending, what, options.maxPendingPerClient);
  const pending: Record<ImageRoute, Admission> = {
    process: routeSlots('images being processed'), histogram: routeSlots('histograms'), info: routeSlots('image information requests'), imageUrl: routeSlots('image URL requests'), previews: routeSlots('previews'),
  };
  const inProgress = () => Object.values(pending).reduce((sum, admission) => sum + admission.inUse, 0);
  const metrics = new ServerMetrics({
    queueDepth: async () => inProgress() + jobs.unfinishedImages() + (engine.mode === 'cluster' ? (await engine.status()).queueDepth : 0),
    liveWorkers: async () => {
      const status = await engine.status();
      return status.mode === 'cluster' ? status.workers.length : status.threads;
    },
    cacheBytes: () => options.cache.storedBytes(),
  });
  const runner = new Runner({
    engine, cache: options.cache, cacheEvents: metrics.cacheEvents(), limits: options.limits,
    assets: assetsIn(options.assetsDir), scratchDir: options.dataDir, onComputed: (outcome) => metrics.recordImage(outcome),
    callingThread: 'serving',
  });
  const disk = new DiskQuota(options.maxJobBytes, options.maxDiskBytes);
  const jobs = new JobStore({
    runner, dataDir: options.dataDir, resultTtlMs: options.resultTtlMs, disk,
    onFinished: (job) => {
      const { done, failed } = job.batch.summary();
      metrics.jobs.inc({ outcome: failed === 0 ? 'done' : done === 0 ? 'failed' : 'partial' });
    },
  });
  const ctx: ServerContext = { options, runner, jobs, metrics, pending, bodies: new ByteBudget(options.maxInflightBytes), disk, spillDir };

  installErrorHandler(app, (line) => { if (!options.logger) process.stderr.write(`imgfleet: ${line}\n`); });
  installSecurityHeaders(app);
  installBrowserGuards(app, { allowedHosts: options.allowedHosts ?? defaultAllowedHosts(options.listenHost), allowedOrigins: options.allowedOrigins });
  if (options.token) installAuth(app, options.token);
  await app.register(multipart);
  await app.register(swagger, {
    openapi: {
      info: { title: 'imgfleet', version, description: 'Image pipelines over HTTP: one image at a time, or batch jobs with live progress.' },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
        schemas: { Operations: { type: 'object', properties: operationSchemas() }, Input: inputSchema(), Output: outputSchema() },
      },
      security: options.token ? [{ bearer: [] }] : [],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // Image bodies only where an image is expected: these routes read them themselves, after
  // authentication and admission, as they stream (see uploads.ts); elsewhere they are refused.
  await app.register(async (scope) => {
    for (const type of ['application/octet-stream', /^image\//]) {
      scope.addContentTypeParser(type, (_request, body, done) => done(null, body));
    }
    await processRoutes(scope, ctx);
    await histogramRoutes(scope, ctx);
    await infoRoutes(scope, ctx);
  });
  await app.register(async (scope) => {
    await healthRoutes(scope, ctx);
    await registryRoutes(scope, ctx);
    await imageUrlRoutes(scope, ctx);
    await jobRoutes(scope, ctx);
    await pageRoutes(scope);
    // For the page: error codes, placed pipeline problems, previews and histograms of job files.
    await errorCodeRoutes(scope);
    await pipelineCheckRoutes(scope, ctx);
    await previewRoutes(scope, ctx);
  });
  if (engine.mode === 'cluster') {
    // Loaded only for a cluster: a local server has no queue to show, and it held 6.5 MB of heap that every full collection marked.
    const { registerDashboard } = await import('./admin.js');
    await registerDashboard(app, (engine as ClusterEngine).queue, { write: options.adminWrite });
  }

  // Closing waits for the requests in flight; a kept-alive connection that goes idle after the
  // close began would otherwise hold it open until its keep-alive time ran out.
  // Node stops timing requests out once closing begins, so a body that never finishes would
  // hold the close until the idle timeout: after the request time, what is left is closed.
  let closingIdle: NodeJS.Timeout | undefined;
  let closingAll: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    closingIdle = setInterval(() => app.server.closeIdleConnections(), 50);
    closingAll = setTimeout(() => app.server.closeAllConnections(), options.requestTimeoutMs);
    closingAll.unref();
  });
  app.addHook('onClose', async () => {
    clearInterval(closingIdle);
    clearTimeout(closingAll);
    await jobs.close();
    // The cache closes after the app: results answered must be in it by then.
    await runner.settled();
    rmSync(spillDir, { recursive: true, force: true });
  });
  return app;
}
