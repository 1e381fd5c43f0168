import type { onRequestHookHandler } from 'fastify';
import type { Admission } from '../admission.js';

export const ERROR_SCHEMA = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
} as const;

export const ERROR_RESPONSES = {
  '4xx': { description: 'bad request: bad pipeline (400), unauthorized (401), unknown (404), too large (413), not an image (415), over the pixel limit (422), busy (429, with Retry-After)', ...ERROR_SCHEMA },
  '5xx': { description: 'internal error or timeout', ...ERROR_SCHEMA },
};

/**
 * Admits a single-image request before its body is read (so a flood is refused without
 * buffering it), and frees the slot when the response is over, however it ends.
 */
export function admitWhileResponding(admission: Admission): onRequestHookHandler {
  return async (request, reply) => {
    admission.take();
    let released = false;
    reply.raw.once('close', () => {
      if (!released) admission.release();
      released = true;
    });
  };
}
