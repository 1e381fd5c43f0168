import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { ImgfleetError } from '../errors.js';

/**
 * A folder only this user can enter (0700), made if missing: for results, uploads and the cache,
 * which other local users must neither read nor plant files in. A folder that exists must be a
 * real folder (not a symbolic link) owned by this user; a looser mode is tightened.
 */
export function privateDir(path: string, what: string): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  const info = lstatSync(path);
  if (!info.isDirectory()) throw new ImgfleetError('BAD_USAGE', `${what} ${path} is not a folder (a symbolic link, or a file): refusing to use it`);
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) {
    throw new ImgfleetError('BAD_USAGE', `${what} ${path} belongs to another user (uid ${info.uid}): refusing to use it; choose another folder`);
  }
  if ((info.mode & 0o077) !== 0) chmodSync(path, 0o700);
  return path;
}
