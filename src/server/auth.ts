import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** The cookie the web page sets, so links, images and the dashboard work in a browser too. */
export const TOKEN_COOKIE = 'imgfleet_token';

/** Paths anyone may read: the page itself, liveness, the API description, and image URLs (their signature is their key). */
const PUBLIC = [/^\/i\//, /^\/$/, /^\/ui\//, /^\/healthz$/, /^\/readyz$/, /^\/docs(\/|$)/, /^\/favicon\.ico$/];

/** Requires `Authorization: Bearer <token>` (or the page's cookie) on everything but the public paths. */
export function installAuth(app: FastifyInstance, token: string): void {
  const expected = digest(token);
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0];
    if (PUBLIC.some((pattern) => pattern.test(path))) return;
    const given = presentedToken(request);
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      const message = given === undefined ? 'a bearer token is required (Authorization: Bearer <token>)' : 'the token is not valid';
      // Answered here rather than thrown: plugins such as the dashboard have error handlers of their own.
      return reply.status(401).header('WWW-Authenticate', 'Bearer').send({ error: { code: 'UNAUTHORIZED', message } });
    }
  });
}

function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  const cookie = request.headers.cookie?.split(';').map((c) => c.trim()).find((c) => c.startsWith(`${TOKEN_COOKIE}=`));
  return cookie ? decodeURIComponent(cookie.slice(TOKEN_COOKIE.length + 1)) : undefined;
}

/** Hashing first makes the comparison constant-time whatever the lengths. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
