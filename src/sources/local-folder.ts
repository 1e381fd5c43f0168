import { readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { ImgfleetError } from '../errors.js';
import { readHead } from '../io/read-head.js';
import { formatBytes } from '../limits.js';
import { keyParts, sha256, sourceOf, type Source, type SourceStore } from './source-store.js';

/** Digests remembered by file identity; beyond this many, the oldest are forgotten. */
const REMEMBERED = 10_000;

/**
 * Sources in a local folder (`--source-dir`). A key names a file inside it and nothing else:
 * absolute paths, `..`, hidden files, and symbolic links that lead outside are refused.
 *
 * A file's digest is remembered by its identity (device, inode, size, modification and change
 * times in nanoseconds), so a request whose result is cached costs a stat, not a read and a
 * hash; a file that changes gets a new identity, and so a new digest.
 */
export class LocalFolderStore implements SourceStore {
  readonly kind = 'folder';
  private root?: Promise<string>;
  private readonly digests = new Map<string, string>();

  constructor(readonly dir: string, private readonly maxBytes: number) {}

  async open(key: string): Promise<Source> {
    const path = await this.resolve(key);
    const info = await stat(path, { bigint: true });
    if (!info.isFile()) throw new ImgfleetError('NOT_FOUND', `no source "${key}"`);
    if (info.size > BigInt(this.maxBytes)) throw new ImgfleetError('FILE_TOO_LARGE', `source "${key}" is over the limit of ${formatBytes(this.maxBytes)}`);
    const identity = `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
    const known = this.digests.get(identity);
    if (known) {
      return {
        digest: known,
        head: async () => readHead(path),
        bytes: async () => {
          const bytes = await readFile(path);
          // Rewritten between the stat and the read: computing would store new pixels under the old address.
          if (sha256(bytes) !== known) {
            this.digests.delete(identity);
            throw new ImgfleetError('BAD_ORIGIN', `source "${key}" changed while it was read; try again`);
          }
          return bytes;
        },
      };
    }
    const source = sourceOf(await readFile(path));
    if (this.digests.size >= REMEMBERED) this.digests.delete(this.digests.keys().next().value!);
    this.digests.set(identity, source.digest);
    return source;
  }

  async read(key: string): Promise<Buffer> {
    return (await this.open(key)).bytes();
  }

  private async resolve(key: string): Promise<string> {
    const parts = keyParts(key);
    if (!parts || isAbsolute(key)) throw new ImgfleetError('NOT_FOUND', `no source "${key}": a source is a relative path of plain names`);
    // A folder that is missing now may be there later: a failed look-up is not kept.
    const root = await (this.root ??= realpath(this.dir)).catch(() => {
      this.root = undefined;
      throw new ImgfleetError('NOT_FOUND', `no source "${key}"`);
    });
    let path: string;
    try {
      path = await realpath(join(root, ...parts));
    } catch {
      throw new ImgfleetError('NOT_FOUND', `no source "${key}"`);
    }
    const inside = relative(root, path);
    if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
      throw new ImgfleetError('NOT_FOUND', `no source "${key}"`);
    }
    return path;
  }
}
