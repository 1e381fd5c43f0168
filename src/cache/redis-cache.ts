import type { Redis } from 'ioredis';
import { RedisLink, type LinkLog } from '../engine/redis/redis-link.js';
import { decodeEntry, encodeEntry, type CacheEntry } from './entry.js';
import type { ResultCache } from './result-cache.js';

/**
 * Stores one entry, then evicts the least recently used entries while the total is over budget.
 *   KEYS[1] the entry   KEYS[2] zset: entry id → last use (ms)   KEYS[3] hash: entry id → size   KEYS[4] total bytes
 *   ARGV[1] the value   ARGV[2] now (ms)   ARGV[3] budget (bytes)   ARGV[4] prefix of entry keys   ARGV[5] entry id
 * Returns: how many entries were evicted.
 */
const PUT = `
local size = string.len(ARGV[1])
local old = tonumber(redis.call('HGET', KEYS[3], ARGV[5])) or 0
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[5], size)
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[5])
local total = redis.call('INCRBY', KEYS[4], size - old)
local budget = tonumber(ARGV[3])
local evicted = 0
while total > budget do
  local oldest = redis.call('ZPOPMIN', KEYS[2])
  if #oldest == 0 then break end
  local id = oldest[1]
  total = total - (tonumber(redis.call('HGET', KEYS[3], id)) or 0)
  redis.call('HDEL', KEYS[3], id)
  redis.call('DEL', ARGV[4] .. id)
  evicted = evicted + 1
end
redis.call('SET', KEYS[4], math.max(total, 0))
return evicted`;

/**
 * Reads one entry and marks it as just used. An entry Redis evicted by itself (maxmemory with
 * allkeys-lru) is struck from the index too.
 *   KEYS[1] the entry   KEYS[2] zset of last uses   KEYS[3] hash of sizes   KEYS[4] total bytes
 *   ARGV[1] now (ms)   ARGV[2] entry id
 * Returns: the value, or nil.
 */
const GET = `
local value = redis.call('GET', KEYS[1])
if value then
  redis.call('ZADD', KEYS[2], 'XX', ARGV[1], ARGV[2])
  return value
end
local size = redis.call('HGET', KEYS[3], ARGV[2])
if size then
  redis.call('HDEL', KEYS[3], ARGV[2])
  redis.call('ZREM', KEYS[2], ARGV[2])
  redis.call('DECRBY', KEYS[4], size)
end
return false`;

interface CacheCommands {
  cachePut(entry: string, lru: string, sizes: string, total: string, value: Buffer, now: number, budget: number, entryPrefix: string, id: string): Promise<number>;
  cacheGetBuffer(entry: string, lru: string, sizes: string, total: string, now: number, id: string): Promise<Buffer | null>;
}

/**
 * Results in Redis for a cluster, under `<prefix>:cache:`, never among the queue's keys, with
 * a byte budget kept by the cache itself (a sorted set of last uses), because the queue's Redis
 * must not evict anything on its own. On a Redis of its own, `maxmemory` with `allkeys-lru`
 * is a second guard; see the README.
 */
export class RedisCache implements ResultCache {
  readonly kind = 'redis';
  private readonly keys: { lru: string; sizes: string; total: string; entry: string };

  private constructor(private readonly redis: Redis & CacheCommands, prefix: string, readonly budgetBytes: number) {
    const base = `${prefix}:cache`;
    this.keys = { lru: `${base}:lru`, sizes: `${base}:sizes`, total: `${base}:bytes`, entry: `${base}:e:` };
  }

  static async open(url: string, prefix: string, budgetBytes: number, log?: LinkLog): Promise<RedisCache> {
    // A cache that is away must not hold requests up: commands fail fast and count as misses.
    const redis = new RedisLink(url, log).failFastConnection({ lazyConnect: true });
    redis.defineCommand('cachePut', { numberOfKeys: 4, lua: PUT });
    redis.defineCommand('cacheGet', { numberOfKeys: 4, lua: GET });
    // A server starts while Redis is away; the cache connects when Redis comes back.
    await redis.connect().catch(() => {});
    return new RedisCache(redis as Redis & CacheCommands, prefix, budgetBytes);
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    const { lru, sizes, total, entry } = this.keys;
    const value = await this.redis.cacheGetBuffer(entry + key, lru, sizes, total, Date.now(), key);
    return value ? decodeEntry(value, key) : undefined;
  }

  async put(key: string, cached: CacheEntry): Promise<number> {
    const value = encodeEntry(cached, key);
    if (value.length > this.budgetBytes) return 0;
    const { lru, sizes, total, entry } = this.keys;
    return this.redis.cachePut(entry + key, lru, sizes, total, value, Date.now(), this.budgetBytes, entry, key);
  }

  async storedBytes(): Promise<number> {
    return Number(await this.redis.get(this.keys.total)) || 0;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
