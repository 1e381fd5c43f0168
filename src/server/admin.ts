import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';

export const DASHBOARD_PATH = '/admin/queues';

/** BullMQ's own dashboard (bull-board) for the cluster's queue, behind the same token as the API. */
export async function registerDashboard(app: FastifyInstance, queue: Queue): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({ queues: [new BullMQAdapter(queue, { readOnlyMode: false })], serverAdapter, options: { uiConfig: { boardTitle: 'imgfleet' } } });
  await app.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PATH });
}
