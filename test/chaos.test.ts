/**
 * Chaos: a batch of 2,000 small images through three workers while, every 2 s, a random worker
 * is killed with SIGKILL and a new one started; Redis (with appendonly) is restarted once; and
 * one worker's network is cut for five lock times. Every output exactly once, equal in
 * pixels to what the local pool makes of the same input, the report 0 failed, no blob left.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { FAST_CLUSTER_ENV, freePort, haveRedisServer, startRedis, startWorker, submit, testPrefix, waitFor, waitForRedis, type WorkerProcess } from './cluster-helpers.js';
import { cli, decode, tempDir } from './helpers.js';

const IMAGES = 2000;
const PIPELINE = 'resize:24:24:fit=fill,blur:0.8,output:png';
const LOCK_MS = Number(FAST_CLUSTER_ENV.IMGFLEET_LOCK_MS);

const root = process.getuid?.() === 0;
const haveIp = (() => { try { execFileSync('ip', ['-V']); return true; } catch { return false; } })();
const noNetns = !root ? 'not root: cannot make a network namespace' : !haveIp ? 'iproute2 (`ip`) is not installed' : '';

/** `count` distinct 32×32 PNGs: one noise image with its first pixels numbering each copy. */
async function smallPngs(folder: string, count: number): Promise<void> {
  mkdirSync(folder, { recursive: true });
  const base = randomBytes(32 * 32 * 3);
  for (let start = 0; start < count; start += 200) {
    await Promise.all(Array.from({ length: Math.min(200, count - start) }, (_, k) => {
      const i = start + k;
      const pixels = Buffer.from(base);
      pixels[0] = i & 255; pixels[1] = i >> 8; pixels[2] = (i * 37) & 255;
      return sharp(pixels, { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(join(folder, `${String(i).padStart(4, '0')}.png`));
    }));
  }
}

/** A network namespace joined to the host by a veth pair whose host end can be set down and up. */
function makeNamespace(t: { after: (fn: () => void) => void }) {
  const id = randomBytes(2).toString('hex');
  const ns = `imgfc${id}`;
  const veth = `vc${id}`;
  const subnet = `10.214.${parseInt(id, 16) % 250}`;
  const ip = (...args: string[]) => execFileSync('ip', args);
  t.after(() => {
    try { ip('netns', 'del', ns); } catch { /* already gone */ }
    try { ip('link', 'del', veth); } catch { /* already gone */ }
  });
  ip('netns', 'add', ns);
  ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', `${veth}p`);
  ip('link', 'set', `${veth}p`, 'netns', ns);
  ip('addr', 'add', `${subnet}.1/30`, 'dev', veth);
  ip('link', 'set', veth, 'up');
  ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${subnet}.2/30`, 'dev', `${veth}p`);
  ip('netns', 'exec', ns, 'ip', 'link', 'set', `${veth}p`, 'up');
  ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  return {
    hostAddress: `${subnet}.1`,
    command: ['ip', 'netns', 'exec', ns],
    cut: () => ip('link', 'set', veth, 'down'),
    restore: () => ip('link', 'set', veth, 'up'),
  };
}

async function keysUnder(url: string, pattern: string): Promise<string[]> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
    return found;
  } finally {
    redis.disconnect();
  }
}

describe('chaos', { timeout: 300_000 }, () => {
  it(`${IMAGES} images through killed workers, a Redis restart and a network cut: every output once, as the local pool makes it`,
    { skip: !haveRedisServer && 'redis-server is not installed' }, async (t) => {
      const dir = tempDir(t);
      const input = join(dir, 'in');
      const out = join(dir, 'out');
      await smallPngs(input, IMAGES);
      const expected = cli(['run', input, '-o', join(dir, 'local'), '-p', PIPELINE, '-c', '1']);

      const net = noNetns ? undefined : makeNamespace(t);
      if (!net) t.diagnostic(`network cut skipped: ${noNetns}`);
      const port = await freePort();
      const url = `redis://127.0.0.1:${port}`;
      const bind = net ? ['127.0.0.1', net.hostAddress] : ['127.0.0.1'];
      const args = ['--port', String(port), '--bind', ...bind, '--protected-mode', 'no', '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', dir];
      let redis = startRedis(args);
      t.after(async () => { redis.child.kill('SIGKILL'); await redis.exited; });
      await waitForRedis(url);
      const prefix = testPrefix(t, url);

      // A worker killed every 2 s out of three takes some jobs' workers away several times over:
      // more than the default 3 times a job may lose its worker (there for a job that kills them).
      const env = { IMGFLEET_MAX_STALLED: '50' };
      interface Slot { worker: WorkerProcess; where: { url: string; command?: string[] } }
      const live = new Set<Slot>();
      const every: WorkerProcess[] = [];
      t.after(async () => { for (const w of every) { w.child.kill('SIGKILL'); await w.exited; } });
      let started = 0;
      const start = async (where: Slot['where'] = { url }): Promise<Slot> => {
        const worker = await startWorker(prefix, `c${++started}`, ['-c', '1'], { ...where, env });
        every.push(worker);
        return { worker, where };
      };
      // The namespaced worker is spared until its network has been cut and restored: its late
      // result, after its jobs went to others, is part of what is tested.
      const isolated = net ? await start({ url: `redis://${net.hostAddress}:${port}`, command: net.command }) : undefined;
      for (const slot of await Promise.all(Array.from({ length: net ? 2 : 3 }, () => start()))) live.add(slot);

      const outputs = () => { try { return readdirSync(out).length; } catch { return 0; } };
      const running = submit(prefix, input, out, PIPELINE, url);
      let finished = false;
      void running.finally(() => { finished = true; });

      /** A new worker in the place of a killed one (tried again if it could not start). */
      const refill = async (where: Slot['where']): Promise<void> => {
        for (let tries = 0; tries < 5 && !finished; tries++) {
          try {
            const slot = await start(where);
            if (finished) slot.worker.child.kill('SIGKILL');
            else live.add(slot);
            return;
          } catch (error) {
            t.diagnostic(`a new worker did not start: ${(error as Error).message}`);
          }
        }
      };
      let spared = Boolean(isolated);
      const kills = (async () => {
        let count = 0;
        while (!finished) {
          await sleep(2000);
          if (finished) break;
          // A worker takes seconds to start on a busy machine: a kill waits until two are up, so
          // that the fleet is never only workers that are starting.
          const victims = [...live];
          if (victims.length + (spared ? 1 : 0) < 2) continue;
          const victim = victims[Math.floor(Math.random() * victims.length)];
          live.delete(victim);
          victim.worker.child.kill('SIGKILL');
          count++;
          void refill(victim.where);
        }
        return count;
      })();

      const faults = (async () => {
        if (net) {
          await waitFor(() => outputs() >= 300 || finished, 120_000, '300 outputs before the network cut');
          // Long enough for its jobs to be run again elsewhere and their results taken: what it
          // finished meanwhile would otherwise land in Redis after them, and stay there.
          net.cut();
          await sleep(LOCK_MS * 5);
          net.restore();
          await sleep(LOCK_MS * 2);
          live.add(isolated!);
          spared = false;
        }
        await waitFor(() => outputs() >= 900 || finished, 120_000, '900 outputs before the Redis restart');
        redis.child.kill('SIGTERM');
        await redis.exited;
        await sleep(1000);
        redis = startRedis(args);
      })();
      faults.catch(() => {}); // awaited below, after the batch

      const result = await running;
      const killed = await kills;
      await faults;
      t.diagnostic(`${killed} workers killed, ${started} started`);
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual([result.report.summary.done, result.report.summary.failed], [IMAGES, 0]);
      assert.ok(killed >= 5, `workers were killed during the batch (${killed})`);

      const files = readdirSync(out).sort();
      assert.equal(files.length, IMAGES, 'every image exactly once, no temporary files');
      const local = await expected;
      assert.equal(local.status, 0, local.stderr);
      for (const file of files) {
        const [got, want] = await Promise.all([decode(join(out, file)), decode(join(dir, 'local', file))]);
        assert.deepEqual([got.width, got.height, got.channels], [want.width, want.height, want.channels], file);
        assert.ok(got.data.equals(want.data), `${file}: pixels differ from the local pool's`);
      }
      await waitForRedis(url);
      assert.deepEqual(await keysUnder(url, `${prefix}:blob:*`), [], 'no blob left in Redis');
    });
});
