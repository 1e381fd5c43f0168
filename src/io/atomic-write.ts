import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const madeFolders = new Set<string>();

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
    writeFileSync(temp, data);
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
    const result = await write(temp);
    renameSync(temp, path);
    return result;
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

function tempPathFor(path: string): string {
  const folder = dirname(path);
  if (!madeFolders.has(folder)) {
    mkdirSync(folder, { recursive: true });
    madeFolders.add(folder);
  }
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}
