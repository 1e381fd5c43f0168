import { createWriteStream } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import aws4 from 'aws4';
import { ImgfleetError } from '../../errors.js';
import { formatBytes } from '../../limits.js';
import { objectUrl, type ObjectPrefix, type ObjectRef } from './object-url.js';
import { s3Failure, storeUnreachable, type Failure } from './s3-errors.js';
import type { S3Settings } from './s3-settings.js';
import { listPage, xmlText } from './s3-xml.js';

/** An object as a listing shows it. */
export interface ListedObject {
  key: string;
  size: number;
  /** Without quotes. */
  etag: string;
}

export interface ObjectHead {
  size: number;
  etag: string;
  contentType?: string;
  /** x-amz-meta-* headers, without the prefix. */
  metadata: Record<string, string>;
}

export interface PutOptions {
  contentType?: string;
  /** Stored as x-amz-meta-<name>: ASCII values only. */
  metadata?: Record<string, string>;
}

export interface S3ClientOptions {
  /** Tries of a request that failed for a reason that may pass (5xx, throttling, a dropped connection). @defaultValue 5 */
  tries?: number;
  /** Outputs larger than this are uploaded in parts of this size (at least 5 MiB, as S3 requires). @defaultValue 8 MiB */
  partBytes?: number;
  /** A request with no progress for this long fails (and is tried again). @defaultValue 30 000 */
  timeoutMs?: number;
}

interface Call {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  ref: ObjectRef | { bucket: string; key?: undefined };
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Uint8Array;
}

const PART_PARALLEL = 4;
const MIN_PART_BYTES = 5 * 1024 * 1024;

/**
 * A small S3 client: SigV4 signing from aws4, requests over Node's http with keep-alive,
 * retries with exponential backoff and jitter on 5xx, throttling and dropped connections.
 * Reads check the object's length before reading a byte of it; large writes go in parts.
 * Every failure is one ImgfleetError line: a missing bucket or key, denied access, or a store
 * that cannot be reached at its endpoint.
 */
export class S3Client {
  private readonly agent: HttpAgent;
  private readonly secure: boolean;
  private readonly tries: number;
  private readonly partBytes: number;
  private readonly timeoutMs: number;

  constructor(readonly settings: S3Settings, options: S3ClientOptions = {}) {
    if (!settings.accessKeyId || !settings.secretAccessKey) {
      throw new ImgfleetError('BAD_USAGE', 'no credentials for the object store: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
    }
    this.secure = !settings.endpoint || settings.endpoint.startsWith('https:');
    this.agent = this.secure ? new HttpsAgent({ keepAlive: true, maxSockets: 64 }) : new HttpAgent({ keepAlive: true, maxSockets: 64 });
    this.tries = options.tries ?? 5;
    this.partBytes = Math.max(MIN_PART_BYTES, options.partBytes ?? 8 * 1024 * 1024);
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** The store as messages name it: its endpoint, or AWS S3 and the region. */
  get where(): string {
    return this.settings.endpoint ?? `AWS S3 (${this.settings.region})`;
  }

  async head(ref: ObjectRef): Promise<ObjectHead> {
    const response = await this.call({ method: 'HEAD', ref });
    response.resume();
    return headOf(response);
  }

  /** The whole object, refused before it is read when its length is over `maxBytes`. */
  async get(ref: ObjectRef, maxBytes: number): Promise<{ body: Buffer; head: ObjectHead }> {
    const response = await this.call({ method: 'GET', ref });
    const head = headOf(response);
    this.refuseLarge(response, ref, head.size, maxBytes);
    const body = Buffer.allocUnsafe(head.size);
    let at = 0;
    try {
      for await (const chunk of response as AsyncIterable<Buffer>) {
        if (at + chunk.length > body.length) throw new ImgfleetError('STORE_UNAVAILABLE', `${objectUrl(ref)}: the store sent more bytes than it announced`);
        chunk.copy(body, at);
        at += chunk.length;
      }
    } catch (error) {
      throw error instanceof ImgfleetError ? error : storeUnreachable(this.where, error);
    }
    if (at !== body.length) throw new ImgfleetError('STORE_UNAVAILABLE', `${objectUrl(ref)}: the connection ended after ${at} of ${body.length} bytes`);
    return { body, head };
  }

  /** The first `bytes` of an object (all of a smaller one). */
  async getHead(ref: ObjectRef, bytes: number): Promise<Buffer> {
    const response = await this.call({ method: 'GET', ref, headers: { range: `bytes=0-${bytes - 1}` } });
    const chunks: Buffer[] = [];
    for await (const chunk of response as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks).subarray(0, bytes);
  }

  /** Streams an object into a file, refused before it is read when its length is over `maxBytes`. */
  async download(ref: ObjectRef, path: string, maxBytes: number): Promise<ObjectHead> {
    const response = await this.call({ method: 'GET', ref });
    const head = headOf(response);
    this.refuseLarge(response, ref, head.size, maxBytes);
    try {
      await pipeline(response, createWriteStream(path, { mode: 0o600 }));
    } catch (error) {
      throw storeUnreachable(this.where, error);
    }
    return head;
  }

  /** Writes an object: in one request, or in parts when it is larger than a part. Returns its ETag. */
  async put(ref: ObjectRef, body: Uint8Array, options: PutOptions = {}): Promise<string> {
    if (body.byteLength > this.partBytes) return this.putInParts(ref, body, options);
    const response = await this.call({ method: 'PUT', ref, body, headers: putHeaders(options) });
    response.resume();
    return unquote(String(response.headers.etag ?? ''));
  }

  /** Copies an object inside the store, without its bytes passing here; new metadata replaces the old when given. */
  async copy(from: ObjectRef, to: ObjectRef, options?: PutOptions): Promise<void> {
    const source = `/${from.bucket}/${from.key.split('/').map(encodeURIComponent).join('/')}`;
    const headers: Record<string, string> = { 'x-amz-copy-source': source, ...(options ? { 'x-amz-metadata-directive': 'REPLACE', ...putHeaders(options) } : {}) };
    const response = await this.call({ method: 'PUT', ref: to, headers });
    const text = await readText(response);
    // A copy can fail after its 200 has been sent: the error is then in the body.
    const code = xmlText(text, 'Code');
    if (code) throw this.failure({ status: 500, code, message: xmlText(text, 'Message') }, to);
  }

  async delete(ref: ObjectRef): Promise<void> {
    const response = await this.call({ method: 'DELETE', ref });
    response.resume();
  }

  /** Every object under a prefix, a page (up to 1,000 keys) at a time, in key order. */
  async *list(where: ObjectPrefix, pageSize = 1000): AsyncGenerator<ListedObject[]> {
    let token: string | undefined;
    do {
      const query: Record<string, string> = { 'list-type': '2', prefix: where.prefix, 'max-keys': String(pageSize) };
      if (token) query['continuation-token'] = token;
      const response = await this.call({ method: 'GET', ref: { bucket: where.bucket }, query });
      const page = listPage(await readText(response));
      yield page.objects;
      token = page.truncated ? page.nextToken : undefined;
    } while (token);
  }

  close(): void {
    this.agent.destroy();
  }

  private async putInParts(ref: ObjectRef, body: Uint8Array, options: PutOptions): Promise<string> {
    const created = await readText(await this.call({ method: 'POST', ref, query: { uploads: '' }, headers: putHeaders(options) }));
    const uploadId = xmlText(created, 'UploadId');
    if (!uploadId) throw new ImgfleetError('STORE_UNAVAILABLE', `the object store at ${this.where} started no multipart upload for ${objectUrl(ref)}`);
    const count = Math.ceil(body.byteLength / this.partBytes);
    const etags: string[] = new Array(count);
    let next = 0;
    const uploadParts = async () => {
      while (next < count) {
        const part = next++;
        const slice = body.subarray(part * this.partBytes, Math.min(body.byteLength, (part + 1) * this.partBytes));
        const response = await this.call({ method: 'PUT', ref, body: slice, query: { partNumber: String(part + 1), uploadId } });
        response.resume();
        etags[part] = String(response.headers.etag ?? '');
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(PART_PARALLEL, count) }, uploadParts));
      const parts = etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escapeXml(etag)}</ETag></Part>`).join('');
      const completeBody = Buffer.from(`<CompleteMultipartUpload>${parts}</CompleteMultipartUpload>`);
      const completed = await readText(await this.call({ method: 'POST', ref, query: { uploadId }, body: completeBody, headers: { 'content-type': 'application/xml' } }));
      const code = xmlText(completed, 'Code');
      if (code) throw this.failure({ status: 500, code, message: xmlText(completed, 'Message') }, ref);
      return unquote(xmlText(completed, 'ETag') ?? '');
    } catch (error) {
      // Parts of an upload never completed are billed until aborted.
      await this.call({ method: 'DELETE', ref, query: { uploadId } }).then((r) => r.resume(), () => {});
      throw error;
    }
  }

  private refuseLarge(response: IncomingMessage, ref: ObjectRef, size: number, maxBytes: number): void {
    if (size === 0) {
      response.resume();
      throw new ImgfleetError('EMPTY_FILE', `empty object (0 bytes): ${objectUrl(ref)}`);
    }
    if (size > maxBytes) {
      response.destroy();
      throw new ImgfleetError('FILE_TOO_LARGE', `${objectUrl(ref)} is ${formatBytes(size)}, over the limit of ${formatBytes(maxBytes)}`);
    }
  }

  /** One request, tried again with backoff while the failure may pass; a 2xx response (its body unread), or the failure as one line. */
  private async call(call: Call): Promise<IncomingMessage> {
    for (let attempt = 1; ; attempt++) {
      let failure: Failure;
      try {
        const response = await this.once(call);
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) return response;
        const text = call.method === 'HEAD' ? '' : await readText(response);
        failure = { status, code: xmlText(text, 'Code') ?? undefined, message: xmlText(text, 'Message') ?? undefined, nonS3: call.method !== 'HEAD' && !text.includes('<Error') };
        if (call.method === 'HEAD') response.resume();
      } catch (error) {
        failure = { status: 0, error };
      }
      const passing = failure.status >= 500 || failure.status === 429 || (failure.status === 0 && droppedConnection(failure.error));
      if (!passing || attempt >= this.tries) throw this.failure(failure, call.ref, attempt);
      await sleep(Math.min(5000, 100 * 2 ** (attempt - 1)) * (0.5 + Math.random()));
    }
  }

  private failure(failure: Failure, ref: Call['ref'], tries = 1): ImgfleetError {
    return s3Failure(failure, ref.key === undefined ? `s3://${ref.bucket}/` : objectUrl(ref as ObjectRef), ref.bucket, this.where, tries);
  }

  private async once(call: Call): Promise<IncomingMessage> {
    const url = this.urlOf(call);
    const headers: Record<string, string> = { ...call.headers };
    const body = call.body && Buffer.from(call.body.buffer, call.body.byteOffset, call.body.byteLength);
    if (body) headers['content-length'] = String(body.byteLength);
    // Signed with Node's own hashes and HMACs, at once: WebCrypto's took about 0.13 ms of CPU a request.
    const { accessKeyId, secretAccessKey, sessionToken, region } = this.settings;
    const signed = aws4.sign({ host: url.host, method: call.method, path: url.pathname + url.search, headers, body, service: 's3', region },
      { accessKeyId: accessKeyId!, secretAccessKey: secretAccessKey!, sessionToken });
    const sent = signed.headers as OutgoingHttpHeaders;
    const send = this.secure ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const request = send(url, { method: call.method, headers: sent, agent: this.agent }, resolve);
      request.setTimeout(this.timeoutMs, () => request.destroy(Object.assign(new Error('no answer in time'), { code: 'ETIMEDOUT' })));
      request.on('error', reject);
      request.end(body);
    });
  }

  /** Path-style with an endpoint (what MinIO and most self-hosted stores need); virtual-hosted on AWS. */
  private urlOf(call: Call): URL {
    const { bucket, key } = call.ref;
    const path = key === undefined ? '' : key.split('/').map(encodeRfc3986).join('/');
    const { endpoint, region } = this.settings;
    const base = endpoint ? `${endpoint}/${bucket}/` : bucket.includes('.') ? `https://s3.${region}.amazonaws.com/${bucket}/` : `https://${bucket}.s3.${region}.amazonaws.com/`;
    const url = new URL(base + path);
    for (const [name, value] of Object.entries(call.query ?? {})) url.searchParams.set(name, value);
    return url;
  }
}

function headOf(response: IncomingMessage): ObjectHead {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (name.startsWith('x-amz-meta-') && typeof value === 'string') metadata[name.slice('x-amz-meta-'.length)] = value;
  }
  const range = /\/(\d+)$/.exec(String(response.headers['content-range'] ?? ''));
  return {
    size: Number(range?.[1] ?? response.headers['content-length'] ?? 0),
    etag: unquote(String(response.headers.etag ?? '')),
    contentType: response.headers['content-type'],
    metadata,
  };
}

function putHeaders(options: PutOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (options.contentType) headers['content-type'] = options.contentType;
  for (const [name, value] of Object.entries(options.metadata ?? {})) headers[`x-amz-meta-${name}`] = value;
  return headers;
}

async function readText(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Failures of the connection that a second try may not meet; a refused connection or an unknown host is a wrong endpoint. */
function droppedConnection(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT' || code === 'ECONNABORTED' || code === 'EAI_AGAIN' || code === 'UND_ERR_SOCKET';
}

function encodeRfc3986(part: string): string {
  return encodeURIComponent(part).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function unquote(etag: string): string {
  return etag.replace(/^(W\/)?"|"$/g, '');
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
