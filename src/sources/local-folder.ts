import { open, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { ImgfleetError } from '../errors.js';
import { formatBytes } from '../limits.js';
import { keyParts, type SourceStore } from './source-store.js';

/**
 * Sources in a local folder (`--source-dir`). A key names a file inside it and nothing else:
 * absolute paths, `..`, hidden files, and symbolic links that lead outside are refused.
 */
export class LocalFolderStore implements SourceStore {
  readonly kind = 'folder';
  private root?: Promise<string>;

  constructor(readonly dir: string, private readonly maxBytes: number) {}

  async read(key: string): Promise<Buffer> {
    const parts = keyParts(key);
    if (!parts || isAbsolute(key)) throw new ImgfleetError('NOT_FOUND', `no source "${key}": a source is a relative path of plain names`);
    const root = await (this.root ??= realpath(this.dir));
    let path: string;
    try {
      path = await realpath(join(root, ...parts));
    } catch {
      throw new ImgfleetError('NOT_FOUND', `no source "${key}"`);
    }
    const inside = relative(root, path);
    if (inside === '' || inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside)) {
      throw new ImgfleetError('NOT_FOUND', `no source "${key}"`);
    }
    const file = await open(path, 'r');
    try {
      const info = await file.stat();
      if (!info.isFile()) throw new ImgfleetError('NOT_FOUND', `no source "${key}"`);
      if (info.size > this.maxBytes) throw new ImgfleetError('FILE_TOO_LARGE', `source "${key}" is over the limit of ${formatBytes(this.maxBytes)}`);
      return await file.readFile();
    } finally {
      await file.close();
    }
  }
}
