import { readdirSync, readFileSync } from 'node:fs';

/** Resident memory of a process and every process under it, in MiB, from /proc (0 once it is gone). */
export function treeRssMiB(pid: number): number {
  let kib = 0;
  for (const p of [pid, ...descendants(pid)]) {
    try {
      kib += Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // it ended between the listing and the reading
    }
  }
  return kib / 1024;
}

function descendants(pid: number): number[] {
  const found: number[] = [];
  let tasks: string[] = [];
  try { tasks = readdirSync(`/proc/${pid}/task`); } catch { return found; }
  for (const task of tasks) {
    let children = '';
    try { children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8'); } catch { continue; }
    for (const child of children.split(' ').filter(Boolean).map(Number)) found.push(child, ...descendants(child));
  }
  return found;
}

/** Samples `measure()` every `everyMs` until stopped: the series of (seconds since start, value). */
export function sampleEvery(everyMs: number, measure: () => number): { stop: () => { t: number; mib: number }[] } {
  const started = performance.now();
  const series: { t: number; mib: number }[] = [];
  const take = () => series.push({ t: Math.round((performance.now() - started) / 100) / 10, mib: Math.round(measure() * 10) / 10 });
  take();
  const timer = setInterval(take, everyMs);
  return { stop: () => { clearInterval(timer); take(); return series; } };
}
