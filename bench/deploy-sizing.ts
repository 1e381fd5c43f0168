/**
 * The peak resident memory of a worker and of a server on a cluster, from which the container
 * requests and limits are derived (README, "Deploy"). Starts a Redis of its own, one
 * `imgfleet worker -c 2` and one `imgfleet serve --redis`, both with jemalloc as the image runs
 * them, then:
 *   1. worst case for a worker: two 50 MP JPEGs (the input limit) at once through
 *      POST /v1/process (whole images, as the API sends them): blur, Sobel, Canny, then resize;
 *   2. a server under a batch: POST /v1/jobs of 100 photos while 50 clients send histogram
 *      requests (imgfleet loadtest).
 * Prints each process's peak RSS (VmHWM) after each phase.
 *
 *   npm run build && node dist/bench/deploy-sizing.js
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { freePort } from '../test/cluster-helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'imgfleet.js');
const CORPUS = join(ROOT, '..', 'shared', 'corpus');
const JEMALLOC = { LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2' };
const TOKEN = 'sizing';


function memory(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMiB: Math.round(kib('VmRSS') / 1024), peakMiB: Math.round(kib('VmHWM') / 1024) };
}

function start(args: string[], env: Record<string, string>, ready: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, ...args], { detached: true, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env, CI: 'true' } });
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes(ready)) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`${args[0]} exited ${code}: ${out}`)));
  });
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'imgfleet-sizing-'));
  const children: ChildProcess[] = [];
  try {
    const redisPort = await freePort();
    children.push(spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', work], { detached: true, stdio: 'ignore' }));
    await new Promise((r) => setTimeout(r, 500));
    const redis = `redis://127.0.0.1:${redisPort}`;
    const env = { ...JEMALLOC, IMGFLEET_PREFIX: 'sizing' };
    const worker = await start(['worker', '--redis', redis, '-c', '2', '--name', 'sizing'], env, 'joined');
    children.push(worker);
    const port = await freePort();
    const server = await start(['serve', '--redis', redis, '--port', String(port), '--token', TOKEN, '--no-cache'], env, 'serving on');
    children.push(server);
    const url = `http://127.0.0.1:${port}`;
    const auth = { authorization: `Bearer ${TOKEN}` };
    const report = (phase: string) => console.log(`${phase}: worker ${JSON.stringify(memory(worker.pid!))}, server ${JSON.stringify(memory(server.pid!))}`);
    report('idle');

    // 1. Two 50 MP images at once, whole: 8660 × 5773 = 49.99 MP, just under the 50 MP limit.
    //    libvips streams a blur; edge detection works on the decoded pixels in memory.
    const huge = await sharp(join(CORPUS, 'large', 'volna-5120x2880.jpg')).resize(8660, 5773, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();
    for (const pipeline of ['blur:10,resize:2000,output:jpeg:85', 'edges,resize:2000,output:jpeg:85', 'edges:canny,resize:2000,output:jpeg:85']) {
      const answers = await Promise.all([0, 1].map(() => fetch(`${url}/v1/process?pipeline=${encodeURIComponent(pipeline)}`, {
        method: 'POST', body: new Uint8Array(huge), headers: { ...auth, 'content-type': 'image/jpeg' },
      })));
      for (const a of answers) if (a.status !== 200) throw new Error(`50 MP ${pipeline}: HTTP ${a.status} ${await a.text()}`);
      report(`two 50 MP images at once, ${pipeline}`);
    }

    // 2. A batch of 100 photos through /v1/jobs while 50 clients send histogram requests.
    const photos = readdirSync(join(CORPUS, 'photos')).map((f) => join(CORPUS, 'photos', f));
    const form = new FormData();
    form.append('pipeline', 'resize:1600,sharpen,output:webp:80');
    for (let i = 0; i < 100; i++) {
      const file = photos[i % photos.length];
      form.append('file', new Blob([new Uint8Array(readFileSync(file))]), `${i}-${file.split('/').pop()}`);
    }
    const load = spawn(process.execPath, [BIN, 'loadtest', '--url', url, '--clients', '50', '--requests', '20', '--token', TOKEN], { detached: true, stdio: 'ignore', env: { ...process.env, CI: 'true' } });
    children.push(load);
    const created = await fetch(`${url}/v1/jobs`, { method: 'POST', body: form, headers: auth });
    const { id } = (await created.json()) as { id: string };
    for (;;) {
      const state = (await (await fetch(`${url}/v1/jobs/${id}`, { headers: auth })).json()) as { state: string; counts: { done: number } };
      if (state.state === 'done') {
        if (state.counts.done !== 100) throw new Error(`batch: ${JSON.stringify(state.counts)}`);
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => (load.exitCode !== null ? r(null) : load.once('exit', r)));
    report('batch of 100 photos + 50 clients × 20 histograms');
  } finally {
    for (const child of children.reverse()) {
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* ended */ }
    }
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
