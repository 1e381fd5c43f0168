import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';

export async function healthRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.get('/healthz', { schema: { summary: 'Liveness: the process answers', tags: ['service'] } }, async () => ({ status: 'ok' }));

  app.get('/readyz', {
    schema: { summary: 'Readiness: the engine can take work (cluster mode: Redis answers and a worker is live)', tags: ['service'] },
  }, async (_request, reply) => {
    // Public: it says whether, not how many workers (GET /v1/workers, behind the token, says that).
    const status = await ctx.runner.status();
    if (!status.ready) return reply.status(503).send({ status: status.reason ?? 'not ready' });
    return { status: 'ready' };
  });

  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['service'] } }, async (_request, reply) => {
    return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });

  app.get('/v1/workers', {
    schema: { summary: 'Live cluster workers with their load and counts (empty in local mode)', tags: ['service'] },
  }, async () => {
    const status = await ctx.runner.status();
    return { mode: status.mode === 'cluster' ? 'cluster' : 'local', workers: status.workers };
  });
}
