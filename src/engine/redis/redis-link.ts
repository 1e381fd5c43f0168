import type { EventEmitter } from 'node:events';
import { Redis, type RedisOptions } from 'ioredis';
import { ImgfleetError } from '../../errors.js';

/** Where a process reports a change of its link to Redis: one line, never a stack trace. */
export type LinkLog = (line: string) => void;

/** How long a fail-fast connection waits for an answer (its commands are a few short ones). */
const FAIL_FAST_COMMAND_MS = 5000;

/**
 * All the connections one process keeps to one Redis, seen as one link that is up or down.
 * Each change is reported once, with the reason in words (`connection refused`), however many
 * connections notice it; ioredis and BullMQ keep reconnecting with backoff meanwhile.
 */
export class RedisLink {
  private up = true;
  private everUp = false;
  private lastReason = '';
  private readonly connections = new Set<Redis>();

  constructor(readonly url: string, private readonly log: LinkLog = () => {}) {}

  /**
   * A connection as BullMQ wants it: commands wait through reconnects instead of failing, so a
   * Redis restart pauses the cluster rather than failing its jobs.
   */
  connection(options: RedisOptions = {}): Redis {
    const redis = new Redis(this.url, { maxRetriesPerRequest: null, enableOfflineQueue: true, ...options });
    this.connections.add(redis);
    redis.on('end', () => this.connections.delete(redis));
    this.watch(redis);
    redis.on('ready', () => this.markUp());
    return redis;
  }

  /**
   * A connection for questions that must not hold anyone up (a fleet's status, the result cache):
   * its commands fail at once while Redis is away, and within a few seconds when Redis is lost
   * mid-question. That deadline matters: a command cut off with its connection is sent again on
   * reconnection, and a connection that opens and closes at once (a load balancer before a dead
   * Redis, a Redis at its client limit) never counts as a failed retry.
   */
  failFastConnection(options: RedisOptions = {}): Redis {
    return this.connection({ maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, commandTimeout: FAIL_FAST_COMMAND_MS, ...options });
  }

  /** Reports the errors of anything that talks to Redis (a BullMQ queue, worker or event stream). */
  watch(emitter: EventEmitter): void {
    emitter.on('error', (error: unknown) => this.markDown(error));
  }

  get isUp(): boolean {
    return this.up;
  }

  /** Why the link is down, in words; empty while it is up. */
  get reason(): string {
    return this.up ? '' : this.lastReason;
  }

  private markDown(error: unknown): void {
    const reason = redisReason(error);
    if (!this.up) {
      // A connection that only says it is closed knows less than the one that saw why.
      if (!/closed|not writeable/i.test(reason)) this.lastReason = reason;
      return;
    }
    this.up = false;
    this.lastReason = reason;
    const url = redactUrl(this.url);
    this.log(this.everUp ? `lost Redis at ${url}: ${reason}; retrying` : `cannot reach Redis at ${url}: ${reason}; retrying`);
  }

  private markUp(): void {
    const wasDown = !this.up;
    this.up = true;
    if (wasDown) this.log(`${this.everUp ? 'Redis is back' : 'connected to Redis'} at ${redactUrl(this.url)}`);
    this.everUp = true;
  }

  /** Closes every connection at once, without waiting for replies Redis may never send. */
  disconnect(): void {
    for (const redis of this.connections) redis.disconnect();
    this.connections.clear();
  }
}

/**
 * Fails within `timeoutMs` with one line naming the URL and the reason when Redis cannot be
 * reached or refuses the password; resolves once it answers a PING.
 */
export async function checkRedis(url: string, timeoutMs = 5000): Promise<void> {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1].toLowerCase();
  if (scheme && scheme !== 'redis' && scheme !== 'rediss') {
    throw new ImgfleetError('BAD_USAGE', `not a Redis URL: ${redactUrl(url)} (expected redis://host:port, or rediss:// for TLS)`);
  }
  let redis: Redis;
  try {
    redis = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: timeoutMs, enableOfflineQueue: true });
  } catch (error) {
    throw new ImgfleetError('BAD_USAGE', `not a Redis URL: ${redactUrl(url)} (${error instanceof Error ? error.message : String(error)})`);
  }
  let lastError: unknown;
  redis.on('error', (error: unknown) => { lastError = error; });
  const deadline = new Promise<never>((_resolve, reject) => {
    setTimeout(() => reject(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })), timeoutMs + 500).unref();
  });
  try {
    await Promise.race([redis.connect().then(() => redis.ping()), deadline]);
  } catch (error) {
    throw new ImgfleetError('REDIS_UNAVAILABLE', `cannot use Redis at ${redactUrl(url)}: ${redisReason(lastError ?? error)}`);
  } finally {
    redis.disconnect();
  }
}

/** What went wrong with Redis, in words a person can act on. */
export function redisReason(error: unknown): string {
  const { code, message = '' } = (error ?? {}) as { code?: string; message?: string };
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(message)) return 'connection refused (is Redis running there?)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || /ENOTFOUND|EAI_AGAIN/.test(message)) return 'unknown host';
  if (code === 'ETIMEDOUT' || /ETIMEDOUT|timeout|timed out/i.test(message)) return 'no answer in time (a firewall, or the wrong address?)';
  if (/WRONGPASS|invalid password|invalid username-password/i.test(message)) return 'it refused the password';
  if (/NOAUTH/.test(message)) return 'it needs a password (redis://:password@host:port)';
  if (/ECONNRESET|EPIPE|Connection is closed|connection closed/i.test(message) || code === 'ECONNRESET') return 'the connection was closed';
  if (/max number of clients/i.test(message)) return 'it has too many clients';
  if (/OOM|LOADING/.test(message)) return message.split('\n')[0].slice(0, 120);
  return (message.split('\n')[0] || 'unknown error').slice(0, 120);
}

/** The URL without its password, for logs and errors. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}
