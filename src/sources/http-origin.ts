import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { ImgfleetError } from '../errors.js';
import { formatBytes } from '../limits.js';
import { checkAddress, checkAllowance, guardedLookup, type PrivateAllowance } from './address-policy.js';
import { keyParts, sourceOf, type Source, type SourceStore } from './source-store.js';

export interface HttpOriginOptions {
  /** The origin: a key is appended to it, e.g. https://images.example.com/photos/ + a/b.jpg. */
  baseUrl: string;
  /** Other hosts (name, or name:port) the origin may redirect to; its own host is always allowed. */
  allowHosts?: string[];
  /** Allow loopback, private and link-local addresses: all of them, or those listed (addresses, subnets). @defaultValue false */
  allowPrivate?: PrivateAllowance;
  maxBytes: number;
  /** For the whole fetch, redirects included. */
  timeoutMs: number;
  /** @defaultValue 5 */
  maxRedirects?: number;
}

/**
 * Sources fetched from an HTTP origin, safe against server-side request forgery: only the
 * origin's host and the allowed hosts, over http or https; every address a host resolves to
 * is checked, and the connection goes to the checked address; redirects are followed one by
 * one, each checked the same way; the size and the time are limited.
 */
export class HttpOriginStore implements SourceStore {
  readonly kind = 'http';
  private readonly base: URL;
  /** Where the origin may send the server, exactly: `scheme://host:port`, the port always written. */
  private readonly origins: Set<string>;

  constructor(private readonly options: HttpOriginOptions) {
    this.base = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') {
      throw new ImgfleetError('BAD_USAGE', `source URL ${options.baseUrl}: expected http:// or https://`);
    }
    checkAllowance(options.allowPrivate ?? false);
    // An allowed host without a port means the origin's scheme on its default port, not any port.
    const allowed = (options.allowHosts ?? []).map((host) => new URL(`${this.base.protocol}//${host}`));
    this.origins = new Set([this.base, ...allowed].map(exactOrigin));
  }

  async open(key: string): Promise<Source> {
    return sourceOf(await this.read(key));
  }

  async read(key: string): Promise<Buffer> {
    const parts = keyParts(key);
    if (!parts) throw new ImgfleetError('NOT_FOUND', `no source "${key}": a source is a relative path of plain names`);
    let url = new URL(parts.map(encodeURIComponent).join('/'), this.base);
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    const maxRedirects = this.options.maxRedirects ?? 5;
    for (let hop = 0; ; hop++) {
      const response = await this.get(url, signal);
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (status >= 300 && status < 400 && location) {
        response.resume();
        if (hop >= maxRedirects) throw new ImgfleetError('BAD_ORIGIN', `origin: more than ${maxRedirects} redirects`);
        try {
          url = new URL(location, url);
        } catch {
          throw new ImgfleetError('BAD_ORIGIN', 'origin answered with a redirect to nowhere');
        }
        continue;
      }
      if (status === 404 || status === 410) {
        response.resume();
        throw new ImgfleetError('NOT_FOUND', `no source "${key}" at the origin`);
      }
      if (status < 200 || status >= 300) {
        response.resume();
        throw new ImgfleetError('BAD_ORIGIN', `origin answered ${status} for "${key}"`);
      }
      return this.body(response, key, signal);
    }
  }

  private get(url: URL, signal: AbortSignal): Promise<IncomingMessage> {
    // The scheme, host and port must be exactly the origin's or an allowed host's: a redirect
    // may not go to another port, nor from https down to http.
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !this.origins.has(exactOrigin(url))) {
      return Promise.reject(new ImgfleetError('FORBIDDEN', 'the image source redirected to a place this server may not fetch from', {
        cause: new Error(`origin redirected to ${url.protocol}//${url.host}, which is not among ${[...this.origins].join(', ')}`),
      }));
    }
    const allowPrivate = this.options.allowPrivate ?? false;
    const literal = url.hostname.replace(/^\[|\]$/g, '');
    try {
      // A literal address is connected to without a lookup, so it is checked here.
      if (isIP(literal)) checkAddress(literal, url.host, allowPrivate);
    } catch (error) {
      return Promise.reject(error);
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const request = send(url, { method: 'GET', signal, lookup: guardedLookup(allowPrivate), headers: { accept: 'image/*' } }, resolve);
      request.on('error', (error) => reject(this.explain(error, signal)));
      request.end();
    });
  }

  private body(response: IncomingMessage, key: string, signal: AbortSignal): Promise<Buffer> {
    const { maxBytes } = this.options;
    const tooLarge = () => new ImgfleetError('FILE_TOO_LARGE', `source "${key}" is over the limit of ${formatBytes(maxBytes)}`);
    if (Number(response.headers['content-length'] ?? 0) > maxBytes) {
      response.destroy();
      return Promise.reject(tooLarge());
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          response.destroy();
          reject(tooLarge());
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => resolve(Buffer.concat(chunks)));
      response.on('error', (error) => reject(this.explain(error, signal)));
      response.on('aborted', () => reject(this.explain(new Error('aborted'), signal)));
    });
  }

  /** What went wrong, in words that do not turn the server into a port scanner: the details stay in the cause (the log). */
  private explain(error: Error, signal: AbortSignal): ImgfleetError {
    if (error instanceof ImgfleetError) return error;
    if (signal.aborted) return new ImgfleetError('TIMEOUT', `origin did not answer within ${(this.options.timeoutMs / 1000).toFixed(1)} s`);
    return new ImgfleetError('BAD_ORIGIN', 'the image source could not be fetched', { cause: error });
  }
}

/** `scheme://host:port`, with the default port written out, so `https://a` and `https://a:443` are one and `https://a:8443` another. */
function exactOrigin(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.protocol}//${url.hostname.toLowerCase()}:${port}`;
}
