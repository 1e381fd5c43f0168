import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { privateDir } from '../io/private-dir.js';
import { decodeEntry, encodeEntry, type CacheEntry } from './entry.js';
import { KEY_PATTERN, type ResultCache } from './result-cache.js';

/**
 * Results as files under a folder (`<dir>/<first two hex digits>/<key>`), within a byte
 * budget: the least recently used files go first. A file's modification time is its last use,
 * set on every hit, so the order survives a restart; writes go to a temporary name and are
 * renamed into place, so a reader never sees half an entry. Several processes may share the
 * folder: one that finds a file gone (another evicted it) treats it as a miss.
 */
export class DiskCache implements ResultCache {
  readonly kind = 'disk';
  /** Key → size, oldest use first (a Map keeps insertion order; a use moves the key to the end). */
  private readonly index = new Map<string, number>();
  private bytes = 0;

  private constructor(readonly dir: string, readonly budgetBytes: number) {}

  static async open(dir: string, budgetBytes: number): Promise<DiskCache> {
    // Other local users must neither read results nor plant them: the folder is this user's alone.
    privateDir(dir, 'cache folder');
    const cache = new DiskCache(dir, budgetBytes);
    const found: { key: string; size: number; used: number }[] = [];
    for (const shard of await readdir(dir)) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      for (const key of await readdir(join(dir, shard)).catch(() => [])) {
        if (!KEY_PATTERN.test(key)) continue;
        const info = await stat(join(dir, shard, key)).catch(() => undefined);
        if (info) found.push({ key, size: info.size, used: info.mtimeMs });
      }
    }
    for (const { key, size } of found.sort((a, b) => a.used - b.used)) cache.remember(key, size);
    await cache.evict();
    return cache;
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    if (!KEY_PATTERN.test(key)) return undefined;
    const path = this.path(key);
    let value: Buffer;
    try {
      value = await readFile(path);
    } catch {
      this.forget(key);
      return undefined;
    }
    this.remember(key, value.length);
    const now = new Date();
    await utimes(path, now, now).catch(() => {});
    const entry = decodeEntry(value, key);
    if (!entry) this.forget(key);
    return entry;
  }

  async put(key: string, entry: CacheEntry): Promise<number> {
    if (!KEY_PATTERN.test(key)) return 0;
    const value = encodeEntry(entry, key);
    if (value.length > this.budgetBytes) return 0;
    const path = this.path(key);
    const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    const write = () => writeFile(temp, value, { mode: 0o600, flag: 'wx' });
    try {
      // The shard's folder is made when a write finds it missing, not before every write.
      await write().catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
        await mkdir(join(this.dir, key.slice(0, 2)), { recursive: true, mode: 0o700 });
        await write();
      });
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    this.remember(key, value.length);
    return this.evict();
  }

  async storedBytes(): Promise<number> {
    return this.bytes;
  }

  async close(): Promise<void> {}

  private async evict(): Promise<number> {
    let evicted = 0;
    for (const [key] of this.index) {
      if (this.bytes <= this.budgetBytes) break;
      this.forget(key);
      await rm(this.path(key), { force: true });
      evicted++;
    }
    return evicted;
  }

  private remember(key: string, size: number): void {
    this.forget(key);
    this.index.set(key, size);
    this.bytes += size;
  }

  private forget(key: string): void {
    const size = this.index.get(key);
    if (size === undefined) return;
    this.index.delete(key);
    this.bytes -= size;
  }

  private path(key: string): string {
    return join(this.dir, key.slice(0, 2), key);
  }
}
