import { readFile, stat } from 'node:fs/promises';
import { ImgfleetError } from '../errors.js';

/** A token kept in a file (its first line), so it never shows in the process list; the file should be the user's alone. */
export async function readTokenFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ImgfleetError('BAD_USAGE', `--token-file ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : 'cannot be read'}`);
  }
  const token = text.split(/\r?\n/)[0].trim();
  if (token === '') throw new ImgfleetError('BAD_USAGE', `--token-file ${path}: the file is empty`);
  const info = await stat(path);
  if ((info.mode & 0o077) !== 0) console.error(`imgfleet: --token-file ${path} can be read by other users; chmod 600 it`);
  return token;
}
