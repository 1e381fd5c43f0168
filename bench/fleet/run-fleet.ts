/**
 * `npm run bench -- --only fleet`: what one coordinator (the submitter and Redis) costs per
 * image when a fleet works on object storage, and how far it scales.
 *
 * 1. The coordinator: a W1 batch on two real workers, bucket to bucket (jobs carry keys) and
 *    folder to folder (bytes through Redis). CPU time of each process from /proc, net of
 *    start-up: the difference between a run of the whole corpus and a run of 300 images,
 *    divided by the difference in images.
 * 2. The simulation: N simulated workers (1 to 64) whose image work is a fixed sleep (W1-like
 *    3 ms, W3-like 37 ms, one image at a time each), while every transfer (the input object
 *    read, the output written) and every queue operation is real. Throughput against N beside
 *    the ideal line; the knee, and which process is busiest there.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEnvironment } from '../../src/config.js';
import { S3Client } from '../../src/sources/s3/s3-client.js';
import { s3Settings } from '../../src/sources/s3/s3-settings.js';
import { ensureCorpus, flickrLike } from '../corpus.js';
import { cpuOf } from '../cluster.js';
import { mainThreadDemand, startRedisServer, startStore, startUntil, type Started } from './processes.js';

export interface CoordinatorRow {
  variant: string;
  images: number;
  imagesPerSecond: number;
  /** Marginal CPU per image, in ms, net of start-up. */
  submitterMs: number;
  redisMs: number;
  workersMs: number;
  storeMs?: number;
}

export interface SimulationPoint {
  workload: string;
  sleepMs: number;
  workers: number;
  images: number;
  imagesPerSecond: number;
  idealPerSecond: number;
  /** Cores each process kept busy during the batch. */
  busy: { submitter: number; redis: number; store: number; workers: number; machine: number };
  /** Share of the batch's time that each one's main thread ran or waited for a CPU: near 1, it is saturated. */
  demand: { submitter: number; redis: number; store: number };
}

export interface FleetResults {
  date: string;
  machine: { cores: number; cpu?: string; node: string };
  command: string;
  coordinator: CoordinatorRow[];
  simulation: SimulationPoint[];
  knees: { workload: string; workers: number; saturated: string; peakPerSecond: number; fleetCores: number }[];
}

const W1 = 'resize:512:512:fit=fill,output:jpeg:75';

/** One submitter run of the coordinator's measure: its own CPU, and what the others used meanwhile (seconds). */
interface Measured { cpuS: number; done: number; elapsedS: number; redis: number; workers: number; store: number }
const SMALL = 300;
const ROUNDS = 5;
const GROUP = 100;

export async function fleetBench(root: string, photos: string, count: number, sizes: number[], log: (line: string) => void): Promise<Omit<FleetResults, 'date' | 'machine' | 'command' | 'knees'>> {
  const bin = join(root, 'bin', 'imgfleet.js');
  const corpus = await ensureCorpus(photos, join(root, 'bench', 'corpus'), flickrLike(count));
  const files = readdirSync(corpus).filter((f) => f.endsWith('.jpg')).sort();
  const redis = await startRedisServer();
  const store = await startStore(root, ['fleet']);
  const work = mkdtempSync(join(tmpdir(), 'imgfleet-fleet-'));
  const running: Started[] = [redis, store];
  try {
    const client = new S3Client(s3Settings(readEnvironment(store.env, false)));
    log(`uploading ${files.length} + ${SMALL} images to the store…`);
    const uploads = [...files.map((f, i) => [f, `in/b${String(Math.floor(i / GROUP)).padStart(3, '0')}/${f}`]), ...files.slice(0, SMALL).map((f) => [f, `small/${f}`])];
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < uploads.length) {
        const [file, key] = uploads[next++];
        await client.put({ bucket: 'fleet', key }, readFileSync(join(corpus, file)));
      }
    }));
    client.close();
    // Outputs of the folder run go to a tmpfs where there is one: on this machine's overlay disk, creating a
    // 40 KB file costs 0.76 ms of system CPU by itself, which would be measured as the submitter's.
    const outputs = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/imgfleet-fleet-') : work;
    const smallDir = join(work, 'small');
    mkdirSync(smallDir);
    for (const f of files.slice(0, SMALL)) symlinkSync(join(corpus, f), join(smallDir, f));

    const prefix = 'fleet-bench';
    const env = { ...store.env, IMGFLEET_PREFIX: prefix };
    // The command as users run it, without --report: its summary line says what was done and
    // how long it took. (3,000 per-image records in a report cost the submitter about 0.02 ms an
    // image more: bench/README.md.)
    const summaryOf = (stdout: string) => {
      const line = /processed (\d+)\/\d+ images in ([\d.]+) s/.exec(stdout);
      if (!line) throw new Error(`fleet bench: no summary line in the submitter's output: ${stdout}`);
      return { done: Number(line[1]), elapsedS: Number(line[2]) };
    };
    const submit = (inputs: string[], out: string, extra: string[] = []) => {
      const measured = JSON.parse(execFileSync('python3', [join(root, 'bench', 'measure.py'), '--', process.execPath, bin, 'run', ...inputs, '-o', out, '-p', W1,
        '--redis', redis.url, ...extra], { encoding: 'utf8', env: { ...process.env, ...env, CI: 'true' }, maxBuffer: 1 << 24 })) as { exitCode: number; cpuS: number; wallS: number; stderr: string; stdout: string };
      if (measured.exitCode !== 0) throw new Error(`fleet bench: the submitter failed: ${measured.stderr}`);
      return { cpuS: measured.cpuS, ...summaryOf(measured.stdout) };
    };
    /** The submitter as a child whose /proc is read as it runs: its CPU and its main thread's demand, over the batch. */
    const submitWatched = async (inputs: string[], out: string, extra: string[]) => {
      const child = spawn(process.execPath, [bin, 'run', ...inputs, '-o', out, '-p', W1, '--redis', redis.url, ...extra],
        { env: { ...process.env, ...env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      let stdout = '';
      child.stderr!.on('data', (d) => { stderr += d; });
      child.stdout!.on('data', (d) => { stdout += d; });
      let last = { cpu: 0, demand: 0 };
      const watch = setInterval(() => { last = { cpu: cpuOf(child.pid!), demand: mainThreadDemand(child.pid!) }; }, 20);
      // The last /proc reading is the one before it exited; 'close' comes once its output is read too.
      child.on('exit', () => clearInterval(watch));
      const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
      if (status !== 0) throw new Error(`fleet bench: the submitter failed: ${stderr}`);
      return { cpuS: last.cpu, demandS: last.demand, ...summaryOf(stdout) };
    };

    // 1. The coordinator, with two real single-thread workers.
    const workers: Started[] = [];
    for (const name of ['real-1', 'real-2']) {
      workers.push(await startUntil([process.execPath, bin, 'worker', '--redis', redis.url, '-c', '1', '--name', name, '--s3-root', 's3://fleet/'], 'joined', env));
    }
    running.push(...workers);
    const coordinator: CoordinatorRow[] = [];
    const variants = [
      { variant: 'bucket to bucket (jobs carry keys)', small: ['s3://fleet/small/'], all: ['s3://fleet/in/'], out: (n: number) => `s3://fleet/out-${n}/`, store: true },
      { variant: 'folder to folder (bytes through Redis)', small: [smallDir], all: [corpus], out: (n: number) => join(outputs, `out-${n}`), store: false },
    ];
    for (const v of variants) {
      // The machine is shared: each run size's figure is the least of five rounds, the run least
      // disturbed by others' work, and the per-image cost is the difference of those two. (The
      // least of the rounds' differences would pick the round whose short run was most disturbed.)
      const runs: { small: Measured; all: Measured }[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const [small, all] = [v.small, v.all].map((inputs): Measured => {
          const before = { redis: redis.cpu(), workers: workers.reduce((s, w) => s + w.cpu(), 0), store: store.cpu() };
          const run = submit(inputs, v.out(inputs === v.small ? SMALL : files.length));
          const after = { redis: redis.cpu(), workers: workers.reduce((s, w) => s + w.cpu(), 0), store: store.cpu() };
          rmSync(join(outputs, `out-${inputs === v.small ? SMALL : files.length}`), { recursive: true, force: true });
          return { ...run, redis: after.redis - before.redis, workers: after.workers - before.workers, store: after.store - before.store };
        });
        runs.push({ small, all });
      }
      const done = runs[0].all.done - runs[0].small.done;
      const perImage = (pick: (m: Measured) => number) =>
        ((Math.min(...runs.map((r) => pick(r.all))) - Math.min(...runs.map((r) => pick(r.small)))) * 1000) / done;
      const row: CoordinatorRow = {
        variant: v.variant, images: runs[0].all.done, imagesPerSecond: Math.max(...runs.map((r) => r.all.done / r.all.elapsedS)),
        submitterMs: perImage((m) => m.cpuS), redisMs: perImage((m) => m.redis), workersMs: perImage((m) => m.workers),
        ...(v.store ? { storeMs: perImage((m) => m.store) } : {}),
      };
      coordinator.push(row);
      log(`coordinator  ${row.variant.padEnd(40)} submitter ${row.submitterMs.toFixed(3)} ms/img  Redis ${row.redisMs.toFixed(3)} ms/img  workers ${row.workersMs.toFixed(2)} ms/img${row.storeMs !== undefined ? `  store ${row.storeMs.toFixed(2)} ms/img` : ''}  ${row.imagesPerSecond.toFixed(0)} img/s`);
    }
    for (const w of workers.splice(0)) await w.stop();
    if (outputs !== work) rmSync(outputs, { recursive: true, force: true });

    // 2. The simulation.
    const simulation: SimulationPoint[] = [];
    for (const [workload, sleepMs, perWorker, floor] of [['W1-like', 3, 150, 600], ['W3-like', 37, 40, 200]] as const) {
      for (const n of sizes) {
        const images = Math.min(files.length, Math.ceil(Math.max(floor, n * perWorker) / GROUP) * GROUP);
        const groups = Array.from({ length: images / GROUP }, (_, i) => `b${String(i).padStart(3, '0')}`);
        const processes = Math.min(4, n);
        const sims: Started[] = [];
        for (let p = 0; p < processes; p++) {
          const share = Math.floor(n / processes) + (p < n % processes ? 1 : 0);
          sims.push(await startUntil([process.execPath, join(root, 'dist', 'bench', 'fleet', 'sim-workers.js'), redis.url, prefix, String(share), String(sleepMs), `sim${p}`, 's3://fleet/'], 'ready', env));
        }
        running.push(...sims);
        const before = { redis: redis.cpu(), store: store.cpu(), workers: sims.reduce((s, w) => s + w.cpu(), 0), redisDemand: redis.demand(), storeDemand: store.demand() };
        const out = `s3://fleet/sim-${workload}-${n}/`;
        const run = await submitWatched(['s3://fleet/in/'], out, ['--glob', groups.length > 1 ? `{${groups.join(',')}}/*.jpg` : `${groups[0]}/*.jpg`]);
        const after = { redis: redis.cpu(), store: store.cpu(), workers: sims.reduce((s, w) => s + w.cpu(), 0), redisDemand: redis.demand(), storeDemand: store.demand() };
        for (const sim of sims) {
          await sim.stop();
          running.splice(running.indexOf(sim), 1);
        }
        const busy = (cpu: number) => cpu / run.elapsedS;
        const point: SimulationPoint = {
          workload, sleepMs, workers: n, images: run.done, imagesPerSecond: run.done / run.elapsedS, idealPerSecond: (n * 1000) / sleepMs,
          busy: {
            submitter: busy(run.cpuS), redis: busy(after.redis - before.redis), store: busy(after.store - before.store), workers: busy(after.workers - before.workers),
            machine: busy(run.cpuS + after.redis - before.redis + after.store - before.store + after.workers - before.workers),
          },
          demand: { submitter: busy(run.demandS), redis: busy(after.redisDemand - before.redisDemand), store: busy(after.storeDemand - before.storeDemand) },
        };
        simulation.push(point);
        log(`simulation   ${workload} N=${String(n).padStart(2)}  ${point.imagesPerSecond.toFixed(0).padStart(5)} img/s (ideal ${point.idealPerSecond.toFixed(0)})  busy cores: submitter ${point.busy.submitter.toFixed(2)}, Redis ${point.busy.redis.toFixed(2)}, store ${point.busy.store.toFixed(2)}, workers ${point.busy.workers.toFixed(2)}`);
        rmSync(join(store.dir, 'fleet', `sim-${workload}-${n}`), { recursive: true, force: true });
      }
    }
    return { coordinator, simulation };
  } finally {
    for (const proc of running.reverse()) await proc.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
