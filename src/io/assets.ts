import { readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ImgfleetError, pipelineError } from '../errors.js';
import { notAFile } from './file-kind.js';

/**
 * Where the logos of watermark steps come from:
 * - `paths`: any file, relative to the working directory (the CLI on a person's own files);
 * - `folder`: only plain files inside one folder, by name (servers and cluster workers,
 *   whose pipelines come from others); symbolic links are refused, wherever they lead;
 * - `none`: logos are refused.
 */
export type AssetPolicy = { kind: 'paths' } | { kind: 'folder'; dir: string } | { kind: 'none' };

export const NO_ASSETS: AssetPolicy = { kind: 'none' };

/** The policy for an optional assets folder: its names when given, none otherwise. */
export function assetsIn(dir: string | undefined): AssetPolicy {
  return dir ? { kind: 'folder', dir: resolve(dir) } : NO_ASSETS;
}

/**
 * Checks a logo name against a policy without reading anything, so a request naming a file
 * outside the folder is refused before any work starts. Throws BAD_PIPELINE naming the step.
 */
export function checkAssetName(policy: AssetPolicy, name: string, where: string): void {
  if (policy.kind === 'paths') return;
  if (policy.kind === 'none') throw pipelineError(`${where}.image: no logos here: "${name}" came with no request and there is no --assets-dir`);
  if (!insideFolder(policy.dir, name)) throw pipelineError(`${where}.image: "${name}" is not a file in the assets folder`);
}

interface Cached {
  bytes: Buffer;
  mtimeMs: number;
  size: number;
}

const MAX_CACHED = 16;

/**
 * Reads logos under a policy. Each is read once and kept while its file is unchanged (a stat
 * per use checks it), so a replaced logo is picked up at once; at most 16 are kept.
 */
export class AssetLoader {
  private readonly cache = new Map<string, Cached>();

  constructor(readonly policy: AssetPolicy) {}

  async load(name: string): Promise<Buffer> {
    checkAssetName(this.policy, name, 'watermark');
    const path = this.policy.kind === 'folder' ? await this.insideReal(this.policy.dir, name) : resolve(name);
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => { throw notReadable(name, error); });
    const kind = notAFile(info);
    if (kind) throw pipelineError(`watermark image ${name}: ${kind}, not a file`);
    const cached = this.cache.get(path);
    if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) {
      this.cache.delete(path);
      this.cache.set(path, cached);
      return cached.bytes;
    }
    const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => { throw notReadable(name, error); });
    this.cache.set(path, { bytes, mtimeMs: info.mtimeMs, size: info.size });
    if (this.cache.size > MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    return bytes;
  }

  /**
   * The file's real path. Refused when it, or a folder on the way, is a symbolic link: a link
   * could lead out of the folder, or be changed to once checked, so none is followed at all
   * (the folder itself may be reached through one).
   */
  private async insideReal(dir: string, name: string): Promise<string> {
    const [root, path] = await Promise.all([
      realpath(dir).catch((error: NodeJS.ErrnoException) => { throw new ImgfleetError('INTERNAL', `assets folder unreadable: ${error.code ?? error.message}`); }),
      realpath(resolve(dir, name)).catch((error: NodeJS.ErrnoException) => { throw notReadable(name, error); }),
    ]);
    if (!insideFolder(root, relative(root, path))) throw pipelineError(`watermark image ${name}: not a file in the assets folder`);
    if (relative(root, path) !== relative(resolve(dir), resolve(dir, name))) {
      throw pipelineError(`watermark image ${name}: a symbolic link; the assets folder takes plain files only`);
    }
    return path;
  }
}

function insideFolder(dir: string, name: string): boolean {
  if (name === '' || isAbsolute(name) || name.includes('\0')) return false;
  const inside = relative(dir, resolve(dir, name));
  return inside !== '' && !inside.startsWith(`..${sep}`) && inside !== '..' && !isAbsolute(inside);
}

function notReadable(name: string, error: NodeJS.ErrnoException): ImgfleetError {
  return pipelineError(`watermark image ${name}: ${error.code === 'ENOENT' ? 'file not found' : 'cannot be read'}`);
}
