/**
 * A worker's result blobs are written under staging names and put in place together, only while
 * the worker still holds its job: checked here against a real Redis, key by key.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { BlobStore } from '../src/engine/redis/blob-store.js';
import { REDIS_URL, testPrefix } from './cluster-helpers.js';
import { photo } from './helpers.js';

describe('result blobs put in place while the job is held', () => {
  async function setUp(t: Parameters<typeof testPrefix>[0]) {
    const prefix = testPrefix(t);
    const redis = new Redis(REDIS_URL);
    t.after(async () => redis.disconnect());
    const blobs = new BlobStore(redis, prefix);
    const lockKey = `${prefix}:job-1:lock`;
    await redis.set(lockKey, 'token-a');
    const keys = [blobs.key('j1', 'out'), blobs.key('j2', 'out')];
    for (const [i, key] of keys.entries()) await blobs.putStaged(key, Buffer.from([i, 1, 2, 3]));
    return { redis, blobs, lockKey, keys };
  }

  it('moves every staged blob to its name, keeps its expiry, and a second call (a resent script) is still a success', async (t) => {
    const { redis, blobs, lockKey, keys } = await setUp(t);
    assert.equal(await blobs.moveWhileHeld(keys, { lockKey, token: 'token-a' }), true);
    for (const [i, key] of keys.entries()) {
      assert.deepEqual(await redis.getBuffer(key), Buffer.from([i, 1, 2, 3]));
      assert.equal(await redis.exists(blobs.stagedKey(key)), 0);
      assert.ok((await redis.pttl(key)) > 0, 'the blob still expires');
    }
    assert.equal(await blobs.moveWhileHeld(keys, { lockKey, token: 'token-a' }), true);
  });

  it('puts nothing in place and deletes the staged blobs when the lock holds another token', async (t) => {
    const { redis, blobs, lockKey, keys } = await setUp(t);
    await redis.set(lockKey, 'token-b');
    assert.equal(await blobs.moveWhileHeld(keys, { lockKey, token: 'token-a' }), false);
    for (const key of keys) {
      assert.equal(await redis.exists(key), 0);
      assert.equal(await redis.exists(blobs.stagedKey(key)), 0);
    }
  });

  it('fails, naming the lost result, when a staged blob is gone before it was moved', async (t) => {
    const { redis, blobs, lockKey, keys } = await setUp(t);
    await redis.del(blobs.stagedKey(keys[1]));
    await assert.rejects(blobs.moveWhileHeld(keys, { lockKey, token: 'token-a' }), /a result was lost from Redis before it was in place/);
  });

  it('tells how much longer a hold lasts: the lock\'s time to live while it holds the token, 0 once it does not', async (t) => {
    const { redis, blobs, lockKey } = await setUp(t);
    const hold = { lockKey, token: 'token-a' };
    await redis.set(lockKey, 'token-a', 'PX', 30_000);
    const ms = await blobs.heldFor(hold);
    assert.ok(ms > 25_000 && ms <= 30_000, `held for ${ms} ms`);
    await redis.set(lockKey, 'token-b', 'PX', 30_000);
    assert.equal(await blobs.heldFor(hold), 0, 'another worker took the job');
    await redis.del(lockKey);
    assert.equal(await blobs.heldFor(hold), 0, 'the lock ran out');
  });
});

describe('blobs on a connection that pipelines the commands of a turn (a worker\'s)', () => {
  it('runs a first script in the same turn as other commands: every command is answered, nothing throws', async (t) => {
    const prefix = testPrefix(t);
    const redis = new Redis(REDIS_URL, { enableAutoPipelining: true });
    t.after(async () => redis.disconnect());
    await redis.ping();
    const blobs = new BlobStore(redis, prefix);
    const lockKey = `${prefix}:job-1:lock`;
    await redis.set(lockKey, 'token-a', 'PX', 30_000);
    const key = blobs.key('j1', 'out');
    // One job's result written while another job, in the same turn, asks about its hold for the
    // first time: the pipeline of that turn exists before the script does.
    const [, heldFor] = await Promise.all([blobs.putStaged(key, Buffer.from([7])), blobs.heldFor({ lockKey, token: 'token-a' })]);
    assert.ok(heldFor > 0 && heldFor <= 30_000, `held for ${heldFor} ms`);
    assert.equal(await blobs.moveWhileHeld([key], { lockKey, token: 'token-a' }), true);
    assert.deepEqual(await redis.getBuffer(key), Buffer.from([7]));
  });
});

describe('a file uploaded as a blob', () => {
  it('holds the file\'s bytes exactly and expires; a missing file is refused before anything is sent', async (t) => {
    const prefix = testPrefix(t);
    const redis = new Redis(REDIS_URL);
    t.after(async () => redis.disconnect());
    const blobs = new BlobStore(redis, prefix, 60_000);
    const dir = mkdtempSync(join(tmpdir(), 'imgfleet-blob-file-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    // Sizes whose headers differ in length, and bytes that look like the protocol's own.
    const files = [Buffer.from('\r\n$3\r\nSET\r\n'), randomBytes(9), randomBytes(100_000), readFileSync(photo('rocket.jpg'))];
    const keys = files.map((_, i) => blobs.key(`file-${i}`, 'in'));
    const uploads = files.map((bytes, i) => {
      const path = join(dir, `${i}.bin`);
      writeFileSync(path, bytes);
      return blobs.putFile(keys[i], path, 1_000_000);
    });
    assert.deepEqual(uploads.map((u) => u.bytes), files.map((f) => f.length));
    await Promise.all(uploads.map((u) => u.sent));
    for (const [i, key] of keys.entries()) {
      assert.deepEqual(await redis.getBuffer(key), files[i], `blob ${i}`);
      const ttl = await redis.pttl(key);
      assert.ok(ttl > 50_000 && ttl <= 60_000, `blob ${i} expires in ${ttl} ms`);
    }
    assert.throws(() => blobs.putFile(blobs.key('missing', 'in'), join(dir, 'missing.jpg'), 1_000_000), /input not found/);
    assert.throws(() => blobs.putFile(blobs.key('large', 'in'), join(dir, '2.bin'), 1000), { code: 'FILE_TOO_LARGE' });
    writeFileSync(join(dir, 'empty.bin'), '');
    assert.throws(() => blobs.putFile(blobs.key('empty', 'in'), join(dir, 'empty.bin'), 1000), { code: 'EMPTY_FILE' });
    assert.equal(await redis.exists(blobs.key('missing', 'in'), blobs.key('large', 'in'), blobs.key('empty', 'in')), 0);
  });
});
