import type { FastifyInstance } from 'fastify';
import { listWorkers } from '../../engine/redis/worker-registry.js';
import type { ServerContext } from '../context.js';

export async function healthRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.get('/healthz', { schema: { summary: 'Liveness: the process answers', tags: ['service'] } }, async () => ({ status: 'ok' }));

  app.get('/readyz', {
    schema: { summary: 'Readiness: the engine can take work (cluster mode: Redis answers and a worker is live)', tags: ['service'] },
  }, async (_request, reply) => {
    if (!ctx.redis || !ctx.options.cluster) return { status: 'ready', engine: ctx.engine.name };
    try {
      const workers = await listWorkers(ctx.redis, ctx.options.cluster.prefix);
      if (workers.length === 0) return reply.status(503).send({ status: 'no live workers', engine: 'cluster', workers: 0 });
      return { status: 'ready', engine: 'cluster', workers: workers.length };
    } catch {
      return reply.status(503).send({ status: 'redis unavailable', engine: 'cluster' });
    }
  });

  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['service'] } }, async (_request, reply) => {
    return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });

  app.get('/v1/workers', {
    schema: { summary: 'Live cluster workers with their load and counts (empty in local mode)', tags: ['service'] },
  }, async () => {
    if (!ctx.redis || !ctx.options.cluster) return { mode: 'local', workers: [] };
    return { mode: 'cluster', workers: await listWorkers(ctx.redis, ctx.options.cluster.prefix) };
  });
}
