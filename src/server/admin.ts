import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';

export const DASHBOARD_PATH = '/admin/queues';

/**
 * BullMQ's own dashboard (bull-board) for the cluster's queue, behind the same token as the API;
 * read-only unless asked for: a dashboard that can add jobs can hand workers any job data.
 */
export async function registerDashboard(app: FastifyInstance, queue: Queue, options: { write: boolean }): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({ queues: [new BullMQAdapter(queue, { readOnlyMode: !options.write })], serverAdapter, options: { uiConfig: { boardTitle: 'imgfleet' } } });
  await app.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PATH });
}
