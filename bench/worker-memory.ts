/**
 * A worker's resident memory over a long batch, with each allocator setting a container could
 * use: glibc's default, glibc with MALLOC_ARENA_MAX=2, and jemalloc (Debian's libjemalloc2,
 * LD_PRELOAD). Each variant gets a fresh `imgfleet worker` on a Redis of its own, the same batch
 * of mixed photos (0.1 to 14.7 MP, JPEG and PNG, colour and grey), and its RSS sampled every
 * 200 ms; variants run one after another in the same run, and the rounds alternate their order.
 * Reported: the mean RSS over each quarter of the batch, the drift from the second quarter to
 * the last (growth once warmed up), the peak, and the RSS once idle.
 *
 *   npm run build && node dist/bench/worker-memory.js [--repeat 40] [--threads 2] [--rounds 2]
 *       [--pipeline 'blur:1.5,resize:1600,output:jpeg:80'] [--json bench/results/worker-memory.json]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/cluster-helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'imgfleet.js');
const CORPUS = join(ROOT, '..', 'shared', 'corpus');
const JEMALLOC = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';

const VARIANTS: { name: string; env: Record<string, string> }[] = [
  { name: 'glibc malloc (default)', env: {} },
  { name: 'glibc, MALLOC_ARENA_MAX=2', env: { MALLOC_ARENA_MAX: '2' } },
  { name: 'jemalloc (LD_PRELOAD libjemalloc2)', env: { LD_PRELOAD: JEMALLOC } },
];

interface Sample { t: number; rssMiB: number }

export interface MemoryRun {
  variant: string;
  round: number;
  images: number;
  wallS: number;
  imagesPerSecond: number;
  /** Mean RSS over each quarter of the batch's wall time. */
  quarterMeansMiB: number[];
  /** Mean of the last quarter minus mean of the second: growth once warmed up. */
  driftMiB: number;
  peakMiB: number;
  /** RSS 5 s after the batch ended, the worker idle. */
  idleMiB: number;
  /** [seconds, MiB] each second of the batch. */
  samples: [number, number][];
}

const { values } = parseArgs({
  options: {
    repeat: { type: 'string', default: '40' },
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '2' },
    pipeline: { type: 'string', default: 'blur:1.5,resize:1600,output:jpeg:80' },
    json: { type: 'string' },
  },
});


function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

/** The batch: every photo of the shared corpus and the 14.7 MP one, `repeat` times under distinct names. */
function batchFolder(work: string, repeat: number): { dir: string; count: number } {
  const dir = join(work, 'in');
  mkdirSync(dir, { recursive: true });
  const sources = [...readdirSync(join(CORPUS, 'photos')).map((f) => join(CORPUS, 'photos', f)), join(CORPUS, 'large', 'volna-5120x2880.jpg')];
  let count = 0;
  for (let r = 0; r < repeat; r++) {
    for (const source of sources) {
      const name = source.split('/').pop()!;
      symlinkSync(source, join(dir, `${String(r).padStart(3, '0')}-${name}`));
      count++;
    }
  }
  return { dir, count };
}

async function measure(variant: (typeof VARIANTS)[number], round: number, input: { dir: string; count: number }, work: string, redisUrl: string): Promise<MemoryRun> {
  const prefix = `memory-${round}-${VARIANTS.indexOf(variant)}`;
  const worker = spawn(process.execPath, [BIN, 'worker', '--redis', redisUrl, '-c', values.threads!, '--name', prefix],
    { detached: true, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...variant.env, IMGFLEET_PREFIX: prefix, CI: 'true' } });
  let out = '';
  worker.stdout!.on('data', (d) => { out += d; });
  try {
    await until(() => out.includes('joined'), 'the worker to join');
    const samples: Sample[] = [];
    const started = Date.now();
    const timer = setInterval(() => samples.push({ t: Date.now() - started, rssMiB: rssMiB(worker.pid!) }), 200);
    const output = join(work, `out-${prefix}`);
    const submitter = spawn(process.execPath, [BIN, 'run', input.dir, '-o', output, '-p', values.pipeline!, '--redis', redisUrl],
      { detached: true, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, IMGFLEET_PREFIX: prefix, CI: 'true' } });
    const status = await exited(submitter);
    const wallS = (Date.now() - started) / 1000;
    clearInterval(timer);
    if (status !== 0) throw new Error(`the batch exited ${status}`);
    await new Promise((r) => setTimeout(r, 5000));
    const idleMiB = rssMiB(worker.pid!);
    rmSync(output, { recursive: true, force: true });
    const quarter = (q: number) => {
      const inside = samples.filter((x) => x.t >= (q * wallS * 1000) / 4 && x.t < ((q + 1) * wallS * 1000) / 4);
      return Math.round(inside.reduce((sum, x) => sum + x.rssMiB, 0) / Math.max(1, inside.length));
    };
    const quarterMeansMiB = [0, 1, 2, 3].map(quarter);
    return {
      variant: variant.name, round, images: input.count, wallS: Number(wallS.toFixed(1)),
      imagesPerSecond: Number((input.count / wallS).toFixed(1)),
      quarterMeansMiB, driftMiB: quarterMeansMiB[3] - quarterMeansMiB[1],
      peakMiB: Math.round(Math.max(...samples.map((x) => x.rssMiB))), idleMiB: Math.round(idleMiB),
      samples: samples.filter((_, i) => i % 5 === 0).map((x) => [Math.round(x.t / 1000), Math.round(x.rssMiB)]),
    };
  } finally {
    try { process.kill(-worker.pid!, 'SIGKILL'); } catch { /* ended */ }
    await exited(worker);
  }
}

async function main(): Promise<void> {
  if (!existsSync(JEMALLOC)) throw new Error(`${JEMALLOC} is missing: apt-get install libjemalloc2`);
  const work = mkdtempSync(join(tmpdir(), 'imgfleet-worker-memory-'));
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', work], { detached: true, stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 500));
    const input = batchFolder(work, Number(values.repeat));
    console.log(`${input.count} images per batch, pipeline ${values.pipeline}, worker -c ${values.threads}`);
    const runs: MemoryRun[] = [];
    for (let round = 1; round <= Number(values.rounds); round++) {
      const order = round % 2 === 1 ? VARIANTS : [...VARIANTS].reverse();
      for (const variant of order) {
        const result = await measure(variant, round, input, work, `redis://127.0.0.1:${port}`);
        const { samples: _samples, ...summary } = result;
        console.log(JSON.stringify(summary));
        runs.push(result);
      }
    }
    console.log('\n| allocator | round | img/s | mean RSS, 1st quarter | 2nd | 3rd | 4th | drift 2nd→4th | peak | idle 5 s after |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of runs) {
      const [q1, q2, q3, q4] = r.quarterMeansMiB;
      console.log(`| ${r.variant} | ${r.round} | ${r.imagesPerSecond} | ${q1} | ${q2} | ${q3} | ${q4} | ${r.driftMiB > 0 ? '+' : ''}${r.driftMiB} | ${r.peakMiB} | ${r.idleMiB} |`);
    }
    if (values.json) {
      const head = JSON.stringify({ date: new Date().toISOString(), pipeline: values.pipeline, threads: Number(values.threads) }).slice(0, -1);
      writeFileSync(values.json, `${head},"runs":[\n${runs.map((r) => JSON.stringify(r)).join(',\n')}]}\n`);
    }
  } finally {
    try { process.kill(-redis.pid!, 'SIGKILL'); } catch { /* ended */ }
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
