import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ImgfleetError } from '../errors.js';

/** The session cookie the server sets when the page's user gives the token; never the token itself. */
export const SESSION_COOKIE = 'imgfleet_session';
/** How long a session lasts. */
export const SESSION_SECONDS = 12 * 60 * 60;

/** Paths anyone may read: the page itself, liveness, the API description, image URLs (their signature is their key), and signing in. */
const PUBLIC = [/^\/i\//, /^\/$/, /^\/ui\//, /^\/healthz$/, /^\/readyz$/, /^\/docs(\/|$)/, /^\/favicon\.ico$/, /^\/v1\/session$/];

/**
 * Requires `Authorization: Bearer <token>`, or the session cookie that `POST /v1/session` sets
 * in exchange for it, on everything but the public paths.
 */
export function installAuth(app: FastifyInstance, token: string): void {
  const expected = digest(token);
  const valid = (given: string) => timingSafeEqual(digest(given), expected);
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0];
    if (PUBLIC.some((pattern) => pattern.test(path))) return;
    const bearer = bearerOf(request);
    const session = cookie(request, SESSION_COOKIE);
    if (bearer !== undefined ? valid(bearer) : session !== undefined && sessionHolds(session, token)) return;
    const message = bearer === undefined && session === undefined ? 'a bearer token is required (Authorization: Bearer <token>)' : 'the token is not valid';
    // Answered here rather than thrown: plugins such as the dashboard have error handlers of their own.
    return reply.status(401).header('WWW-Authenticate', 'Bearer').send({ error: { code: 'UNAUTHORIZED', message } });
  });

  // The page trades the token for a cookie that scripts cannot read (HttpOnly), that goes only
  // to this server over a secure connection (Secure; browsers count loopback as one), never
  // with requests from other sites (SameSite=Strict), and that ends.
  app.post<{ Body: { token?: unknown } }>('/v1/session', {
    bodyLimit: 4096,
    schema: {
      summary: 'Sign in for the web page: the token in, a session cookie out (HttpOnly, Secure, SameSite=Strict)',
      tags: ['service'],
      body: { type: 'object', properties: { token: { type: 'string', maxLength: 1024 } }, required: ['token'] },
    },
  }, async (request, reply) => {
    const given = request.body.token;
    if (typeof given !== 'string' || !valid(given)) throw new ImgfleetError('UNAUTHORIZED', 'the token is not valid');
    const expires = Math.floor(Date.now() / 1000) + SESSION_SECONDS;
    reply.header('Set-Cookie', `${SESSION_COOKIE}=${sessionValue(expires, token)}; Path=/; Max-Age=${SESSION_SECONDS}; HttpOnly; Secure; SameSite=Strict`);
    return reply.status(204).send();
  });
}

/** `<expiry>.<HMAC of it keyed by the token>`: proves the token was shown, without holding it. */
function sessionValue(expires: number, token: string): string {
  return `${expires}.${createHmac('sha256', token).update(`imgfleet session ${expires}`).digest('base64url')}`;
}

function sessionHolds(value: string, token: string): boolean {
  const match = /^(\d{1,12})\.[A-Za-z0-9_-]{43}$/.exec(value);
  if (!match || Number(match[1]) < Date.now() / 1000) return false;
  const expected = Buffer.from(sessionValue(Number(match[1]), token));
  const given = Buffer.from(value);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
}

/** A cookie's value as sent; malformed headers simply have none. */
export function cookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** Hashing first makes the comparison constant-time whatever the lengths. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
