import type { FastifyInstance } from 'fastify';
import { ERROR_CODES, errorStatus, isPermanent } from '../../errors.js';

/** The codes an error body can carry, so clients (the page among them) can explain each one. */
export async function errorCodeRoutes(app: FastifyInstance): Promise<void> {
  app.get('/v1/errors', {
    schema: {
      summary: 'Every error code the API answers with: its HTTP status, and whether trying again can help',
      tags: ['service'],
      response: {
        200: {
          type: 'object',
          properties: {
            errors: {
              type: 'array',
              items: { type: 'object', properties: { code: { type: 'string' }, status: { type: 'integer' }, retryable: { type: 'boolean' } } },
            },
          },
        },
      },
    },
  }, async () => ({ errors: ERROR_CODES.map((code) => ({ code, status: errorStatus(code), retryable: !isPermanent(code) })) }));
}
