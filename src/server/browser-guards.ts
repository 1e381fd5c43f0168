import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ImgfleetError } from '../errors.js';
import { isLoopback } from './loopback.js';

/** The page's own policy: its scripts, styles and images from this server only, never framed. */
const PAGE_POLICY = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' blob: data:", "connect-src 'self'",
  "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');
/** The API description's and the queue dashboard's pages set styles inline. */
const TOOL_POLICY = PAGE_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'");
const TOOL_PATHS = /^\/(docs|admin\/queues)(\/|$)/;

/**
 * On every response: a Content-Security-Policy (nothing from elsewhere, no framing), nosniff,
 * no Referer (image URLs carry signatures), and the request's id, which error bodies repeat so
 * a report can be matched with the log.
 */
export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    // On the raw response, so responses written by hand (event streams) carry them too.
    const res = reply.raw;
    res.setHeader('Content-Security-Policy', TOOL_PATHS.test(request.url) ? TOOL_POLICY : PAGE_POLICY);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Request-Id', request.id);
  });
}

export interface BrowserGuardOptions {
  /** Host headers answered; none: any. */
  allowedHosts?: string[];
  /** Origins of other sites allowed to send requests that change things. */
  allowedOrigins: string[];
}

/**
 * Refuses what a page on another site could make a browser send: a request whose Host is not
 * this server's own (DNS rebinding: evil.example resolving to 127.0.0.1), and a request that
 * changes things (POST, DELETE, …) from a page of another origin (cross-site request forgery).
 * Clients that are not browsers send no Origin and are not concerned.
 */
export function installBrowserGuards(app: FastifyInstance, options: BrowserGuardOptions): void {
  const hosts = options.allowedHosts && new Set(options.allowedHosts.map((h) => h.toLowerCase()));
  const origins = new Set(options.allowedOrigins.map((o) => o.toLowerCase().replace(/\/$/, '')));
  app.addHook('onRequest', async (request) => {
    const host = (request.headers.host ?? '').toLowerCase();
    if (hosts && !hosts.has(host) && !hosts.has(hostName(host))) {
      throw new ImgfleetError('FORBIDDEN', 'this server does not answer to that host name (start it with --allowed-hosts to add names it is reached by)');
    }
    if (SAFE_METHODS.has(request.method)) return;
    const origin = originOf(request);
    if (origin === undefined || hostOfOrigin(origin) === host || origins.has(origin)) return;
    throw new ImgfleetError('FORBIDDEN', 'a page of another site may not send this request (start the server with --allowed-origins to allow one)');
  });
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The Host allow-list of a server listening on `listenHost` and `port`: loopback names when it is loopback, else none. */
export function defaultAllowedHosts(listenHost: string): string[] | undefined {
  if (!isLoopback(listenHost)) return undefined;
  return ['localhost', '127.0.0.1', '[::1]'];
}

function hostName(host: string): string {
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
}

function originOf(request: FastifyRequest): string | undefined {
  const origin = request.headers.origin;
  if (origin && origin !== 'null') return origin.toLowerCase();
  if (origin === 'null') return 'null';
  // Browsers that send no Origin say where a request came from here.
  const site = request.headers['sec-fetch-site'];
  return site === 'cross-site' ? 'cross-site' : undefined;
}

/** The host of an origin (`https://a.example:8443` → `a.example:8443`); behind a TLS proxy the scheme differs, the host does not. */
function hostOfOrigin(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}
