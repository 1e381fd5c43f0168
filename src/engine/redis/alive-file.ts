import { readFileSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../../io/atomic-write.js';
import type { WorkerInfo } from '../types.js';

/**
 * A worker serves no HTTP, so its liveness is a small file it rewrites from its event loop:
 * a container's health check (`imgfleet health --worker`) reads it. A worker whose event loop
 * is stuck stops rewriting it; one whose Redis is away still does, and says so.
 */
export interface AliveRecord {
  name: string;
  pid: number;
  /** When the worker last wrote the file (epoch ms). */
  at: number;
  /** Whether its last heartbeat reached Redis. */
  redis: 'connected' | 'unreachable';
  active: number;
  done: number;
  failed: number;
}

export const ALIVE_INTERVAL_MS = 5_000;

export class AliveFile {
  private timer?: NodeJS.Timeout;

  constructor(private readonly path: string, private readonly state: () => { info: WorkerInfo; redisConnected: boolean }) {}

  start(): void {
    this.write();
    this.timer = setInterval(() => this.write(), ALIVE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    rmSync(this.path, { force: true });
  }

  private write(): void {
    const { info, redisConnected } = this.state();
    const record: AliveRecord = {
      name: info.name, pid: info.pid, at: Date.now(), redis: redisConnected ? 'connected' : 'unreachable',
      active: info.active, done: info.done, failed: info.failed,
    };
    try {
      writeFileAtomic(this.path, `${JSON.stringify(record)}\n`);
    } catch {
      // A full or read-only disk must not stop the work; the health check will say the file is stale.
    }
  }
}

/**
 * What the file says of its worker: rejects with one line a person can act on when it is
 * missing, stale (older than `maxAgeMs`), or, when `ready` is asked, when Redis is away.
 */
export function checkAliveFile(path: string, maxAgeMs: number, ready: boolean, now = Date.now()): AliveRecord {
  let record: AliveRecord;
  try {
    record = JSON.parse(readFileSync(path, 'utf8')) as AliveRecord;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(`${path}: ${missing ? 'no worker has written it (is `imgfleet worker` running with this --alive-file?)' : 'not a worker\'s alive file'}`);
  }
  if (typeof record.at !== 'number' || typeof record.name !== 'string') throw new Error(`${path}: not a worker's alive file`);
  const age = now - record.at;
  if (age > maxAgeMs) throw new Error(`worker ${record.name}: last alive ${Math.round(age / 1000)} s ago (more than ${maxAgeMs / 1000} s): stuck or gone`);
  if (ready && record.redis !== 'connected') throw new Error(`worker ${record.name}: alive, but its Redis is unreachable`);
  return record;
}
