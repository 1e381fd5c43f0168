import type { Redis } from 'ioredis';

/** A worker's hold on a job: BullMQ's lock key of the job, and the token the worker took it with. */
export interface JobHold {
  lockKey: string;
  token: string;
}

const PUT_WHILE_HELD = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0`;

/**
 * Image bytes as binary Redis values under their own keys, never inside job data. Every blob
 * has a time to live, so one left behind by a crashed submitter disappears by itself.
 */
export class BlobStore {
  constructor(private readonly redis: Redis, private readonly prefix: string, private readonly ttlMs = 3_600_000) {}

  key(jobId: string, role: string): string {
    return `${this.keyPrefix}${jobId}:${role}`;
  }

  /** Every blob key starts with this: a job naming any other key is refused. */
  get keyPrefix(): string {
    return `${this.prefix}:blob:`;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await this.redis.set(key, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'PX', this.ttlMs);
  }

  /**
   * Writes a blob only while `hold` (a job's lock) still holds `token`, in one step: a worker
   * that lost its job (its lock ran out and the job went to another worker) writes nothing.
   */
  async putWhileHeld(key: string, bytes: Uint8Array, hold: JobHold): Promise<boolean> {
    const written = await this.redis.eval(PUT_WHILE_HELD, 2, hold.lockKey, key, hold.token,
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), this.ttlMs);
    return written === 1;
  }

  /** Whether `hold` still holds its job. */
  async holds(hold: JobHold): Promise<boolean> {
    return (await this.redis.get(hold.lockKey)) === hold.token;
  }

  get(key: string): Promise<Buffer | null> {
    return this.redis.getBuffer(key);
  }

  async delete(...keys: string[]): Promise<void> {
    if (keys.length > 0) await this.redis.del(...keys);
  }
}
