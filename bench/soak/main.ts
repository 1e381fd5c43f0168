/**
 * The soak workload of `npm run bench -- --only soak`: `imgfleet serve` (local mode, its
 * defaults) under mixed traffic for a long while (10 minutes unless --duration says otherwise),
 * its resident memory and its children's sampled every second. Passes when memory is flat after
 * warm-up (the last half grows no more than the tolerance) and no request got an unexpected 5xx.
 * Writes bench/results/soak.{json,md}.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { signedPath } from '../../src/server/signing.js';
import { startServe } from '../serve-process.js';
import { sampleEvery, treeRssMiB } from './memory.js';
import { soakMarkdown, type SoakResults } from './report.js';
import { KINDS, runTraffic, type Answer } from './traffic.js';
import { flatness, TOLERANCE } from './verdict.js';

const KEY = 'soak-key-0123456789abcdef0123456789ab';
const WIDTHS = [120, 160, 200, 240, 280, 320, 360, 400];

export interface SoakOptions {
  durationS: number;
  clients: number;
  command: string;
}

/** Runs the soak and writes its results; the exit code says whether it passed. */
export async function runSoakWorkload(root: string, photos: string, options: SoakOptions): Promise<boolean> {
  const work = mkdtempSync(join(tmpdir(), 'imgfleet-soak-'));
  try {
    const sources = join(work, 'sources');
    mkdirSync(sources);
    const names = readdirSync(photos).filter((f) => f.endsWith('.jpg')).sort().slice(0, 12);
    for (const name of names) copyFileSync(join(photos, name), join(sources, name));
    const images = names.map((name) => readFileSync(join(sources, name)));
    const corpus = join(photos, '..');
    const badFiles = [
      readFileSync(join(corpus, 'bad', 'truncated.jpg')),
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
      Buffer.from('this is not an image at all'),
      images[0].subarray(0, 200),
    ];
    // Each photo at a few widths: the first request for a URL computes it, later ones hit the cache.
    const urls = names.flatMap((name) => WIDTHS.map((w) => signedPath(`/resize:${w},output:auto/${name}`, [KEY])));

    const server = await startServe(join(root, 'bin', 'imgfleet.js'),
      ['--source-dir', sources, '--data-dir', join(work, 'data'), '--cache-dir', join(work, 'cache')], { IMGFLEET_KEY: KEY });
    const answers: Answer[] = [];
    let series: { t: number; mib: number }[] = [];
    const started = new Date().toISOString();
    try {
      const sampler = sampleEvery(1000, () => treeRssMiB(server.pid));
      const progress = setInterval(() => {
        const fives = answers.filter((a) => typeof a.status === 'number' && a.status >= 500).length;
        console.log(`soak: ${answers.length} requests, ${fives} 5xx, ${treeRssMiB(server.pid).toFixed(0)} MiB resident`);
      }, 30_000);
      await runTraffic({ base: server.url, images, badFiles, urls }, options.clients, performance.now() + options.durationS * 1000, (a) => answers.push(a));
      clearInterval(progress);
      series = sampler.stop();
    } finally {
      await server.stop();
    }

    const byKind = Object.fromEntries(KINDS.map((kind) => {
      const statuses: Record<string, number> = {};
      const mine = answers.filter((a) => a.kind === kind);
      for (const a of mine) statuses[String(a.status)] = (statuses[String(a.status)] ?? 0) + 1;
      const ms = mine.map((a) => a.ms).sort((x, y) => x - y);
      return [kind, { requests: mine.length, statuses, p50Ms: ms[Math.floor(ms.length / 2)] ?? 0, p99Ms: ms[Math.floor(ms.length * 0.99)] ?? 0 }];
    }));
    const unexpected5xx = answers.filter((a) => typeof a.status === 'number' && a.status >= 500).length;
    const noAnswer = answers.filter((a) => typeof a.status === 'string' && a.status !== 'aborted').length;
    const badFileAccepted = answers.filter((a) => a.kind === 'bad-file' && typeof a.status === 'number' && (a.status < 400 || a.status >= 500)).length;
    const memory = flatness(series);
    const results: SoakResults = {
      date: started,
      machine: { cores: availableParallelism(), cpu: cpus()[0]?.model, node: process.version },
      command: options.command,
      durationS: options.durationS,
      clients: options.clients,
      requests: answers.length,
      byKind,
      unexpected5xx,
      noAnswer,
      badFileAccepted,
      memory,
      tolerance: TOLERANCE,
      passed: memory.flat && unexpected5xx === 0 && noAnswer === 0 && badFileAccepted === 0,
      rss: series,
    };
    const dir = join(root, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'soak.json'), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(join(dir, 'soak.md'), soakMarkdown(results));
    console.log(`\n${soakMarkdown(results)}\nwrote bench/results/soak.{json,md}`);
    return results.passed;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
