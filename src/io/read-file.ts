import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ImgfleetError } from '../errors.js';
import { checkFileSize, DEFAULT_LIMITS } from '../limits.js';

/** Reads a whole file, checking its size before reading a byte of it. */
export function readFileLimited(path: string, maxBytes: number = DEFAULT_LIMITS.maxFileBytes): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ImgfleetError('BAD_USAGE', `input not found: ${path}`);
    if (code === 'EACCES') throw new ImgfleetError('BAD_USAGE', `input not readable (permission denied): ${path}`);
    throw error;
  }
  try {
    const info = fstatSync(fd);
    if (info.isDirectory()) throw new ImgfleetError('BAD_USAGE', `input is a folder: ${path}`);
    checkFileSize(info.size, { ...DEFAULT_LIMITS, maxFileBytes: maxBytes });
    const data = Buffer.allocUnsafe(info.size);
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
