import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NoCache, type ResultCache } from './result-cache.js';
import type { LinkLog } from '../engine/redis/redis-link.js';
import { ImgfleetError } from '../errors.js';
import type { S3Client } from '../sources/s3/s3-client.js';

export interface CacheChoice {
  /** Local mode: the cache folder (made 0700; refused if another user owns it). @defaultValue `imgfleet-cache-<uid>` in the system temp dir */
  dir?: string;
  /** Cluster mode: the cache's Redis (a database or instance of its own is best; see the README). */
  redis?: string;
  /** A fleet's cache in its object store: s3://bucket/prefix/ (expired by the bucket's lifecycle rules; see the README). */
  s3?: string;
  /** Key prefix in Redis; entries live under `<prefix>:cache:`. */
  prefix?: string;
  /** Byte budget in MiB. @defaultValue 1024 on disk, 256 in Redis */
  megabytes?: number;
  disabled?: boolean;
}

/** Per user: a shared temp folder is where another user could have made it first. */
export const DEFAULT_CACHE_DIR = join(tmpdir(), `imgfleet-cache-${process.getuid?.() ?? 'user'}`);

/** Opens the cache chosen; `log` hears of changes of a Redis cache's link, one line each; `store` holds an s3:// cache. */
export async function openCache(choice: CacheChoice, log?: LinkLog, store?: S3Client): Promise<ResultCache> {
  if (choice.disabled) return new NoCache();
  if (choice.s3) {
    if (!store) throw new ImgfleetError('BAD_USAGE', 'a cache in a bucket needs the object store\'s settings');
    const [{ S3Cache }, { parseObjectUrl }] = await Promise.all([import('./s3-cache.js'), import('../sources/s3/object-url.js')]);
    return new S3Cache(store, parseObjectUrl(choice.s3, 'cache'), mebibytes(choice.megabytes ?? 256));
  }
  if (choice.redis) {
    const { RedisCache } = await import('./redis-cache.js');
    return RedisCache.open(choice.redis, choice.prefix ?? 'imgfleet', mebibytes(choice.megabytes ?? 256), log);
  }
  const { DiskCache } = await import('./disk-cache.js');
  return DiskCache.open(choice.dir ?? DEFAULT_CACHE_DIR, mebibytes(choice.megabytes ?? 1024));
}

function mebibytes(n: number): number {
  return Math.round(n * 1024 * 1024);
}
