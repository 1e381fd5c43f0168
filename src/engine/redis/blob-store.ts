import type { Redis } from 'ioredis';

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

  get(key: string): Promise<Buffer | null> {
    return this.redis.getBuffer(key);
  }

  /** Reads a blob and deletes it in one command. */
  take(key: string): Promise<Buffer | null> {
    return this.redis.getdelBuffer(key);
  }

  async delete(...keys: string[]): Promise<void> {
    if (keys.length > 0) await this.redis.del(...keys);
  }
}
