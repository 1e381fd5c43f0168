import { constants, statSync, type Stats } from 'node:fs';
import { ImgfleetError } from '../errors.js';

/**
 * Flags for opening an input: a named pipe with nobody writing to it would otherwise hold the
 * thread in `open` for ever; opened without blocking, it is seen for what it is and refused.
 */
export const OPEN_INPUT = constants.O_RDONLY | constants.O_NONBLOCK;

/** What a path that is not a regular file is, in words; undefined for a regular file. */
export function notAFile(info: Pick<Stats, 'isFile' | 'isDirectory' | 'isFIFO' | 'isSocket' | 'isCharacterDevice' | 'isBlockDevice'>): string | undefined {
  if (info.isFile()) return undefined;
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a named pipe';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** The one line for an input that is not a regular file (`kind` from notAFile). */
export function notAFileError(path: string, kind: string): ImgfleetError {
  const streams = kind === 'a named pipe' || kind === 'a socket';
  return new ImgfleetError('BAD_USAGE', `input is ${kind}, not a file: ${path}${streams ? ' (save what it streams to a file first)' : ''}`);
}

/** A file's identity (its device and inode, links followed); undefined when there is none to read. */
export function fileIdentity(path: string): string | undefined {
  try {
    const info = statSync(path, { throwIfNoEntry: false });
    return info && `${info.dev}:${info.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * Whether two paths name one file that exists: through a symbolic link (to the file, or to a
 * folder on the way) or a hard link, where their names differ. `b` is read first: given an
 * output, usually not there yet, one system call answers.
 */
export function sameFile(a: string, b: string): boolean {
  const second = fileIdentity(b);
  return second !== undefined && second === fileIdentity(a);
}
