import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What measure.py reports of one command run to its end. */
export interface Measured {
  exitCode: number;
  wallS: number;
  /** CPU of the command and all its children. */
  cpuS: number;
  /** The largest resident set of any one of its processes. */
  maxRssMiB: number;
  /** The whole process tree's peak: the sum of its processes' PSS, sampled every 50 ms. */
  treePeakMiB: number;
  stderr: string;
}

const SCRIPT = fileURLToPath(new URL('../../bench/measure.py', import.meta.url));

/** Runs a command as its own process under measure.py. */
export function measure(command: string[]): Measured {
  return JSON.parse(execFileSync('python3', [SCRIPT, '--', ...command], { encoding: 'utf8', maxBuffer: 1 << 24 })) as Measured;
}
