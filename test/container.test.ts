import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { QUEUE_NAME } from '../src/engine/redis/cluster-settings.js';
import { freePort, REDIS_URL, testPrefix, waitFor } from './cluster-helpers.js';
import { buildImage, createContainer, imageConfig, VERSION, type Container, type ContainerProcess, type ImageConfig } from './container-helpers.js';
import { BIN, decode, ROOT, synthetic, tempDir, toPng } from './helpers.js';

// Built and run by `npm run test:container` (buildah, a base image); skipped in `npm test`.
const enabled = process.env.IMGFLEET_TEST_CONTAINER === '1';

/** 64×48 RGB: red = x × 4, green = y × 5, blue = 200; negated, each value v becomes 255 − v. */
const gradient = synthetic(64, 48, 3, (x, y, c) => [x * 4, y * 5, 200][c]);

async function assertNegated(bytes: Buffer | string): Promise<void> {
  const out = await decode(bytes);
  assert.deepEqual([out.width, out.height, out.channels], [64, 48, 3]);
  for (let i = 0; i < gradient.data.length; i++) {
    if (out.data[i] !== 255 - gradient.data[i]) assert.fail(`sample ${i}: ${out.data[i]}, expected ${255 - gradient.data[i]}`);
  }
}

/** `imgfleet run … --redis` on this machine, outside the container, in a process group of its own. */
function submitFromHost(t: { after: (fn: () => void) => void }, prefix: string, input: string, out: string, report: string) {
  const child = spawn(process.execPath, [BIN, 'run', input, '-o', out, '-p', 'negate,output:png', '--redis', REDIS_URL, '--report', report],
    { detached: true, env: { ...process.env, IMGFLEET_PREFIX: prefix, CI: 'true' } });
  t.after(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* ended */ } });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise<{ status: number | null; stderr: string }>((resolve) => child.on('close', (status) => resolve({ status, stderr })));
}

/** As a container runtime stops a container: SIGTERM to its first process, tini. */
function stop(process_: ContainerProcess): void {
  const tini = process_.pidOf('/usr/bin/tini');
  assert.ok(tini, 'tini runs the command');
  process.kill(tini, 'SIGTERM');
}

describe('the container image', { skip: enabled ? false : 'built and run by npm run test:container' }, () => {
  let image: string;
  let config: ImageConfig;

  before(async () => {
    const started = Date.now();
    image = await buildImage();
    config = await imageConfig(image);
    process.stderr.write(`container test: ${image} built in ${Math.round((Date.now() - started) / 1000)} s\n`);
  }, { timeout: 30 * 60_000 });

  async function container(t: { after: (fn: () => Promise<void>) => void }, env: Record<string, string> = {}): Promise<Container> {
    const c = await createContainer(image);
    t.after(() => c.remove());
    // Without a PID namespace (chroot isolation) tini is not PID 1; as a subreaper it still reaps.
    await c.setEnv({ TINI_SUBREAPER: '1', ...env });
    return c;
  }

  it('runs imgfleet through tini as a non-root user, with a health check, production dependencies and jemalloc', async (t) => {
    assert.deepEqual(config.Entrypoint, ['/usr/bin/tini', '--', 'imgfleet']);
    assert.deepEqual(config.Cmd, ['serve', '--host', '0.0.0.0']);
    assert.equal(config.User, 'node');
    assert.deepEqual(Object.keys(config.ExposedPorts ?? {}), ['8080/tcp']);
    assert.deepEqual(config.Healthcheck?.Test.slice(0, 3), ['CMD', 'imgfleet', 'health']);
    assert.ok(config.Env.includes('LD_PRELOAD=/usr/local/lib/libjemalloc.so.2'), config.Env.join(' '));

    const c = await container(t);
    const version = await c.exec([...config.Entrypoint, '--version']);
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout, `${VERSION}\n`);
    // A pool thread's code is one bundled file: it loads there, and finds its WebAssembly and font.
    const pool = await c.exec(['node', '--input-type=module', '-e', `
      import sharp from 'sharp';
      import { LocalEngine } from '/app/dist/src/engine/local/local-engine.js';
      import { parsePipelineText } from '/app/dist/src/pipeline/load.js';
      import { validatePipeline } from '/app/dist/src/pipeline/validate.js';
      const bytes = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#808080' } }).jpeg().toBuffer();
      const engine = new LocalEngine({ threads: 1 });
      const pipeline = validatePipeline(parsePipelineText('resize:320,sharpen,watermark:hi,output:png')).spec;
      const outcome = await engine.run({ source: { kind: 'bytes', bytes }, pipeline, sink: { kind: 'bytes' }, priority: 'batch' });
      await engine.close();
      console.log(JSON.stringify({ ok: outcome.ok, worker: outcome.worker, width: outcome.output?.width, error: outcome.error }));`]);
    assert.equal(pool.status, 0, pool.stderr);
    const ran = JSON.parse(pool.stdout) as { ok: boolean; worker: string; width: number };
    assert.ok(ran.ok && /\/thread-1$/.test(ran.worker) && ran.width === 320, pool.stdout);
    // The image has libwebp: a small WebP skips libvips' loader (src/pipeline/webp-lane.ts).
    const webp = await c.exec(['node', '--input-type=module', '-e', `
      import sharp from 'sharp';
      import { processImage } from '/app/dist/src/pipeline/process.js';
      import { parsePipelineText } from '/app/dist/src/pipeline/load.js';
      import { validatePipeline } from '/app/dist/src/pipeline/validate.js';
      const bytes = await sharp({ create: { width: 500, height: 375, channels: 3, background: '#406080' } }).webp().toBuffer();
      const result = await processImage(bytes, validatePipeline(parsePipelineText('resize:256:256,output:jpeg')));
      console.log(result.stats.path, result.width);`]);
    assert.equal(webp.stdout.trim(), 'libwebp 256', webp.stderr);
    const id = await c.exec(['id', '-u']);
    assert.equal(id.stdout.trim(), '1000');
    // Packages no production dependency reaches, through its dependencies and optional dependencies.
    const devOnly = developmentOnlyPackages();
    assert.ok(devOnly.includes('typescript') && devOnly.includes('playwright-core'), devOnly.join(' '));
    const { dependencies } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
    // One listing of both, ended by a mark, so that an answer cut short cannot pass for an empty one.
    const listing = await c.exec(['sh', '-c', 'for m; do [ -e "/app/node_modules/$m/package.json" ] && echo "$m"; done; echo end', 'sh', ...devOnly, ...Object.keys(dependencies)]);
    const present = listing.stdout.split('\n').filter(Boolean);
    assert.equal(present.pop(), 'end', listing.stdout);
    assert.deepEqual(present.filter((m) => devOnly.includes(m)), [], 'no development dependency');
    assert.deepEqual(present, Object.keys(dependencies), 'every dependency');
    const touch = await c.exec(['touch', '/app/package.json']);
    assert.equal(touch.status, 1, 'the application files are read-only to the process');
  });

  it('serves the API; its HEALTHCHECK command exits 0 against it and 1 against a dead port; SIGTERM stops it cleanly', async (t) => {
    const c = await container(t, { IMGFLEET_TOKEN: 'container-token' });
    const port = await freePort();
    // The image's own command, on a free port of this shared machine (the host's network).
    const serve = c.start([...config.Entrypoint, ...config.Cmd, '--port', String(port)]);
    await waitFor(() => serve.stdout().includes('serving on') || serve.child.exitCode !== null, 60_000, 'serve to start in the container');
    assert.match(serve.stdout(), new RegExp(`serving on http://0\\.0\\.0\\.0:${port} \\(local worker threads, cache: disk, token required\\)`));

    const check = config.Healthcheck!.Test.slice(1);
    const healthy = await c.exec([...check, '--url', `http://127.0.0.1:${port}`]);
    assert.equal(healthy.status, 0, healthy.stderr);
    assert.match(healthy.stdout, new RegExp(`^http://127\\.0\\.0\\.1:${port}/healthz: 200 ok in \\d+ ms\\n$`));

    const deadPort = await freePort();
    const dead = await c.exec([...check, '--url', `http://127.0.0.1:${deadPort}`]);
    assert.equal(dead.status, 1);
    assert.equal(dead.stderr, `imgfleet: http://127.0.0.1:${deadPort}/healthz: nothing is listening there (connection refused)\n`);

    // The API works from outside the container, with the token from the environment.
    const response = await fetch(`http://127.0.0.1:${port}/v1/process?pipeline=negate,output:png`, {
      method: 'POST', body: new Uint8Array(await toPng(gradient)), headers: { 'content-type': 'image/png', authorization: 'Bearer container-token' },
    });
    assert.equal(response.status, 200, await response.clone().text());
    await assertNegated(Buffer.from(await response.arrayBuffer()));

    stop(serve);
    assert.equal(await serve.exited, 0, serve.stderr());
    assert.match(serve.stdout(), /SIGTERM: finishing requests in flight \(again to exit now\)…\nimgfleet server stopped/);
  });

  it('a worker in the container joins this machine\'s Redis and completes jobs submitted from outside; SIGTERM drains it', async (t) => {
    const prefix = testPrefix(t);
    const dir = tempDir(t);
    const input = join(dir, 'in');
    mkdirSync(input);
    writeFileSync(join(input, 'a.png'), await toPng(gradient));
    writeFileSync(join(input, 'not-an-image.png'), 'plain text');
    const name = `container-worker-${process.pid}`;
    // Every job waits 3 s in the worker, so the SIGTERM below lands while one runs.
    const c = await container(t, { IMGFLEET_PREFIX: prefix, IMGFLEET_REDIS: REDIS_URL });
    const worker = c.start([...config.Entrypoint, 'worker', '--name', name, '-c', '1', '--delay-rate', '1', '--delay-ms', '3000']);
    await waitFor(() => worker.stdout().includes('joined') || worker.child.exitCode !== null, 60_000, 'the worker to join');
    assert.match(worker.stdout(), new RegExp(`worker ${name} joined ${REDIS_URL.replace(/[.]/g, '\\.')} with 1 threads`));
    const node = worker.pidOf('node');
    assert.ok(node && readFileSync(`/proc/${node}/maps`, 'utf8').includes('libjemalloc.so.2'), 'the worker allocates with jemalloc');
    // The health check compose and Kubernetes run for a worker, inside its container.
    const health = await c.exec(['imgfleet', 'health', '--worker', '--ready']);
    assert.equal(health.status, 0, health.stderr);
    assert.match(health.stdout, new RegExp(`^worker ${name} alive .* Redis connected\n$`));

    const first = await submitFromHost(t, prefix, input, join(dir, 'out1'), join(dir, 'report1.json'));
    assert.equal(first.status, 1, 'one of the two images is bad');
    const report = JSON.parse(readFileSync(join(dir, 'report1.json'), 'utf8')) as { items: { input: string; status: string; worker?: string; error?: { code: string } }[] };
    const byName = Object.fromEntries(report.items.map((item) => [item.input.split('/').pop(), item]));
    assert.equal(byName['a.png'].status, 'done');
    assert.equal(byName['a.png'].worker, name);
    assert.equal(byName['not-an-image.png'].error?.code, 'NOT_AN_IMAGE');
    assert.deepEqual(readdirSync(join(dir, 'out1')), ['a.png']);
    await assertNegated(join(dir, 'out1', 'a.png'));

    // A second batch; once its job is running, the container is stopped as a runtime stops it.
    const second = submitFromHost(t, prefix, join(input, 'a.png'), join(dir, 'out2'), join(dir, 'report2.json'));
    const queue = new Queue(QUEUE_NAME, { connection: { url: REDIS_URL }, prefix });
    t.after(async () => { await queue.close(); });
    await waitFor(async () => (await queue.getActiveCount()) > 0, 30_000, 'the job to be running');
    stop(worker);
    assert.equal((await second).status, 0, 'the running job finishes');
    await assertNegated(join(dir, 'out2', 'a.png'));
    assert.equal(await worker.exited, 0, worker.stderr());
    assert.match(worker.stdout(), /SIGTERM: draining 1 running image\(s\)/);
    assert.match(worker.stdout(), new RegExp(`worker ${name} left: 2 done, 1 failed, 0 refused`));
  });
});

type LockPackage = { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };

function developmentOnlyPackages(): string[] {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockPackage> };
  const resolve = (from: string, name: string): string | undefined => {
    for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
      const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      if (lock.packages[candidate]) return candidate;
      if (!dir) return undefined;
    }
  };
  const reached = new Set<string>();
  const visit = (path: string): void => {
    const pkg = lock.packages[path];
    if (!pkg) return;
    for (const name of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
      const target = resolve(path, name);
      if (target && !reached.has(target)) {
        reached.add(target);
        visit(target);
      }
    }
  };
  visit('');
  return Object.keys(lock.packages)
    .filter((path) => path.startsWith('node_modules/') && !path.includes('/node_modules/', 1) && !reached.has(path))
    .map((path) => path.slice('node_modules/'.length));
}
