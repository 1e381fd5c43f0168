import { closeSync, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { ImgfleetError } from '../errors.js';
import { notAFile, notAFileError, OPEN_INPUT } from './file-kind.js';
import { checkFileSize, DEFAULT_LIMITS } from '../limits.js';

/** Bytes left free around a file's bytes in the buffer they are read into, for a caller that frames them (a Redis command). */
export interface Room {
  before: number;
  after: number;
}

const NO_ROOM: Room = { before: 0, after: 0 };

/**
 * Reads a whole file, checking its size before reading a byte of it. With `room`, the bytes
 * returned lie in a larger buffer (their `buffer`) with that many bytes free before and after.
 */
export function readFileLimited(path: string, maxBytes: number = DEFAULT_LIMITS.maxFileBytes, room: Room = NO_ROOM): Buffer {
  let fd: number;
  try {
    fd = openSync(path, OPEN_INPUT);
  } catch (error) {
    throw openError(error, path);
  }
  try {
    const size = readableSize(fstatSync(fd), path, maxBytes);
    const data = room === NO_ROOM ? Buffer.allocUnsafe(size) : Buffer.allocUnsafe(room.before + size + room.after).subarray(room.before, room.before + size);
    let read = 0;
    while (read < data.length) {
      const n = readSync(fd, data, read, data.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return read === data.length ? data : data.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

/** The same, read in libuv's thread pool: the calling thread goes on meanwhile. */
export async function readFileLimitedOffThread(path: string, maxBytes: number = DEFAULT_LIMITS.maxFileBytes): Promise<Buffer> {
  let file: FileHandle;
  try {
    file = await open(path, OPEN_INPUT);
  } catch (error) {
    throw openError(error, path);
  }
  try {
    const data = Buffer.allocUnsafe(readableSize(await file.stat(), path, maxBytes));
    let read = 0;
    while (read < data.length) {
      const { bytesRead } = await file.read(data, read, data.length - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return read === data.length ? data : data.subarray(0, read);
  } finally {
    await file.close();
  }
}

function openError(error: unknown, path: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new ImgfleetError('BAD_USAGE', `input not found: ${path}`);
  if (code === 'EACCES') return new ImgfleetError('BAD_USAGE', `input not readable (permission denied): ${path}`);
  return error;
}

/** The size of an opened input, refused when it is not a file or larger than `maxBytes`. */
function readableSize(info: Stats, path: string, maxBytes: number): number {
  const kind = notAFile(info);
  if (kind === 'a folder') throw new ImgfleetError('BAD_USAGE', `input is a folder: ${path}`);
  if (kind) throw notAFileError(path, kind);
  checkFileSize(info.size, { ...DEFAULT_LIMITS, maxFileBytes: maxBytes });
  return info.size;
}
