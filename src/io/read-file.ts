import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
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
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ImgfleetError('BAD_USAGE', `input not found: ${path}`);
    if (code === 'EACCES') throw new ImgfleetError('BAD_USAGE', `input not readable (permission denied): ${path}`);
    throw error;
  }
  try {
    const info = fstatSync(fd);
    const kind = notAFile(info);
    if (kind === 'a folder') throw new ImgfleetError('BAD_USAGE', `input is a folder: ${path}`);
    if (kind) throw notAFileError(path, kind);
    checkFileSize(info.size, { ...DEFAULT_LIMITS, maxFileBytes: maxBytes });
    const data = room === NO_ROOM ? Buffer.allocUnsafe(info.size) : Buffer.allocUnsafe(room.before + info.size + room.after).subarray(room.before, room.before + info.size);
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
