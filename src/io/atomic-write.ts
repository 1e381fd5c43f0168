import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { threadId } from 'node:worker_threads';

/**
 * Writes a file so that readers see either nothing or the whole file: the bytes go to a
 * temporary name in the same folder, then a rename replaces the target in one step. A rerun
 * that writes the same output again replaces it whole.
 *
 * Synchronous on purpose: it runs on pool threads, where a blocking write costs only that
 * thread's time, while the asynchronous calls cost a thread-pool round trip (and several
 * system calls) each; in a batch of small images those round trips were a fifth of the CPU.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const temp = tempPathFor(path);
  try {
    inFolder(path, () => writeFileSync(temp, data));
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** The same, for a writer that streams to a path of its own (libvips writing a large image). */
export async function writeAtomicWith<T>(path: string, write: (temp: string) => Promise<T>): Promise<T> {
  const temp = tempPathFor(path);
  try {
    mkdirSync(dirname(path), { recursive: true });
    const result = await write(temp);
    renameSync(temp, path);
    return result;
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** Random once per process (hosts sharing a folder may reuse a pid), then counted: a random draw per file cost more than the write. */
const TEMP_PREFIX = `${process.pid}-${randomBytes(4).toString('hex')}`;
let tempCount = 0;

function tempPathFor(path: string): string {
  return `${path}.tmp-${TEMP_PREFIX}-${threadId}-${++tempCount}`;
}

/**
 * Writes assuming the folder exists (the usual case, one system call cheaper), and makes it when
 * it does not: on the first write there, or after someone deleted it under a long-lived process.
 */
function inFolder(path: string, write: () => void): void {
  try {
    write();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    mkdirSync(dirname(path), { recursive: true });
    write();
  }
}
