import type { ImageRoute, ServerContext } from '../context.js';
import { guard } from '../request-guard.js';
import { maxSingleBody } from '../uploads.js';

export const ERROR_SCHEMA = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, requestId: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
} as const;

export const ERROR_RESPONSES = {
  '4xx': { description: 'bad request: bad pipeline (400), unauthorized (401), forbidden (403), unknown (404), too large (413), not an image (415), over a limit or too much work (422), busy (429, with Retry-After)', ...ERROR_SCHEMA },
  '5xx': { description: 'internal error (with a request id for the log), disk quota full (507) or timeout', ...ERROR_SCHEMA },
};

/**
 * The hooks of a single-image route: a slot on its route (and within its client's share) before
 * its body is read, the body counted against the in-flight budget, and the work stopped when
 * the client goes away or does not read the response in time.
 */
export function imageRouteHooks(ctx: ServerContext, route: ImageRoute, withBody: boolean) {
  return guard({
    admission: ctx.pending[route],
    budget: ctx.bodies,
    maxBody: withBody ? maxSingleBody(ctx.options.limits) : 0,
    sendTimeoutMs: ctx.options.sendTimeoutMs,
  });
}
