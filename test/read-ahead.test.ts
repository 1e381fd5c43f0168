/**
 * A worker reads a job's input blobs a few at a time, in one command for several, against a real
 * Redis: which keys each read asks for, and that every image gets its own bytes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { BlobStore } from '../src/engine/redis/blob-store.js';
import { ReadAhead } from '../src/engine/redis/read-ahead.js';
import { REDIS_URL, testPrefix } from './cluster-helpers.js';

/** A blob store that notes the keys of each multi-key read it sends. */
class CountingBlobStore extends BlobStore {
  readonly reads: string[][] = [];

  override getMany(keys: string[]): Promise<(Buffer | null)[]> {
    this.reads.push(keys);
    return super.getMany(keys);
  }
}

describe('a job\'s inputs read ahead', () => {
  async function setUp(t: Parameters<typeof testPrefix>[0], count: number) {
    const prefix = testPrefix(t);
    const redis = new Redis(REDIS_URL);
    t.after(async () => redis.disconnect());
    const blobs = new CountingBlobStore(redis, prefix);
    const keys = Array.from({ length: 7 }, (_, i) => blobs.key(`j${i}`, 'in'));
    for (const [i, key] of keys.entries()) await blobs.put(key, Buffer.from(`image ${i}`));
    return { blobs, keys, ahead: new ReadAhead(blobs, keys, count) };
  }

  it('reads the inputs in order, `count` to a command, each image getting its own bytes', async (t) => {
    const { blobs, keys, ahead } = await setUp(t, 3);
    for (const [i, key] of keys.entries()) assert.equal(String(await ahead.read(key)), `image ${i}`);
    assert.deepEqual(blobs.reads, [keys.slice(0, 3), keys.slice(3, 6), keys.slice(6)]);
  });

  it('starts the next read when a result is handed over and nothing is read ahead, and only then', async (t) => {
    const { blobs, keys, ahead } = await setUp(t, 2);
    assert.equal(String(await ahead.read(keys[0])), 'image 0');
    // keys[1] is read ahead already: nothing to start.
    ahead.readNext();
    assert.equal(blobs.reads.length, 1);
    assert.equal(String(await ahead.read(keys[1])), 'image 1');
    // Nothing ahead: the next two start now, and the images that ask for them send nothing more.
    ahead.readNext();
    assert.deepEqual(blobs.reads[1], keys.slice(2, 4));
    assert.equal(String(await ahead.read(keys[2])), 'image 2');
    assert.equal(String(await ahead.read(keys[3])), 'image 3');
    assert.equal(blobs.reads.length, 2);
  });

  it('reads a key out of order on its own, and gives null for an input that is gone', async (t) => {
    const { blobs, keys, ahead } = await setUp(t, 2);
    const logo = blobs.key('logo', 'asset-0');
    await blobs.put(logo, Buffer.from('logo'));
    assert.equal(String(await ahead.read(logo)), 'logo');
    assert.equal(blobs.reads.length, 0);
    await blobs.delete(keys[1]);
    assert.equal(String(await ahead.read(keys[0])), 'image 0');
    assert.equal(await ahead.read(keys[1]), null);
  });

  it('has nothing to start once every input is read', async (t) => {
    const { blobs, keys, ahead } = await setUp(t, 4);
    for (const key of keys) await ahead.read(key);
    ahead.readNext();
    assert.equal(blobs.reads.length, 2);
  });
});
