import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { ImgfleetError } from '../errors.js';
import { notAFile } from './file-kind.js';

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
  const target = writeTarget(path);
  if (target.stream) {
    writeOrSayWhy(path, () => writeFileSync(target.path, data));
    return;
  }
  const temp = tempPathFor(target.path);
  try {
    writeOrSayWhy(path, () => {
      inFolder(target.path, () => writeFileSync(temp, data));
      renameSync(temp, target.path);
    });
  } catch (error) {
    removeQuietly(temp);
    throw error;
  }
}

/** The same, for a writer that streams to a path of its own (libvips writing a large image). */
export async function writeAtomicWith<T>(path: string, write: (temp: string) => Promise<T>): Promise<T> {
  const target = writeTarget(path);
  if (target.stream) return write(target.path);
  const temp = tempPathFor(target.path);
  try {
    writeOrSayWhy(path, () => mkdirSync(dirname(target.path), { recursive: true }));
    const result = await write(temp);
    writeOrSayWhy(path, () => renameSync(temp, target.path));
    return result;
  } catch (error) {
    removeQuietly(temp);
    throw error;
  }
}

/**
 * Where an output really goes. A symbolic link is followed, so that the file it leads to is
 * replaced and the link stays (`-o /dev/stdout` with standard output sent to a file, say). A
 * device or a named pipe (`-o /dev/null`, a pipe) is written straight to: a rename would put a
 * file in its place. A folder (or a socket) in the way is refused in one line.
 */
function writeTarget(path: string): { path: string; stream: boolean } {
  let info;
  try {
    info = lstatSync(path, { throwIfNoEntry: false });
    if (info?.isSymbolicLink()) {
      const led = statSync(path);
      // A file is replaced where it is; a pipe behind a link (/dev/stdout → /proc/self/fd/1 →
      // pipe:[…]) has no path of its own, and is written through the link.
      if (led.isFile()) return { path: realpathSync(path), stream: false };
      info = led;
    }
  } catch {
    // A file in the way of its folder (the write fails and says why), or a broken link (the file takes its place).
    return { path, stream: false };
  }
  const kind = info && notAFile(info);
  if (!kind) return { path, stream: false };
  if (kind === 'a device' || kind === 'a named pipe') return { path, stream: true };
  throw new ImgfleetError('BAD_USAGE', `output is ${kind}: ${path} (name a file)`);
}

/** Runs a write, turning the file system's refusal into one line that names the output, not the temporary file. */
function writeOrSayWhy(path: string, write: () => void): void {
  try {
    write();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') throw new ImgfleetError('STORAGE_FULL', `no space left on the disk for ${path}`, { cause: error });
    if (code === 'EACCES' || code === 'EPERM') throw new ImgfleetError('BAD_USAGE', `cannot write ${path}: permission denied`, { cause: error });
    if (code === 'EROFS') throw new ImgfleetError('BAD_USAGE', `cannot write ${path}: the file system is read-only`, { cause: error });
    if (code === 'EISDIR') throw new ImgfleetError('BAD_USAGE', `output is a folder: ${path} (name a file)`, { cause: error });
    if (code === 'ENOTDIR') throw new ImgfleetError('BAD_USAGE', `cannot write ${path}: a file is in the way of its folder`, { cause: error });
    if (code === 'ENOENT') throw new ImgfleetError('BAD_USAGE', `cannot write ${path}: its folder cannot be made there`, { cause: error });
    // Others (EIO, EMFILE…) may pass: not the user's doing, and worth another try.
    if (code) throw new ImgfleetError('INTERNAL', `cannot write ${path} (${code})`, { cause: error });
    throw error;
  }
}

/** Removes a temporary file, if one was made (the error that stopped the write is the one to report). */
function removeQuietly(temp: string): void {
  try {
    rmSync(temp, { force: true });
  } catch {
    // ENOTDIR and the like: nothing was made.
  }
}

/** Random once per process (hosts sharing a folder may reuse a pid), then counted: a random draw per file cost more than the write. */
const TEMP_PREFIX = `${process.pid}-${randomBytes(4).toString('hex')}`;
let tempCount = 0;

/**
 * A name beside the output, hidden (a batch over the folder leaves it out) and short: an output
 * whose own name is near the file system's 255-byte limit must not fail for its temporary one.
 */
function tempPathFor(path: string): string {
  return join(dirname(path), `.imgfleet.tmp-${TEMP_PREFIX}-${threadId}-${++tempCount}`);
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
