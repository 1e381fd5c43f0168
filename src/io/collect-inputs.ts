import { readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { ImgfleetError } from '../errors.js';
import { notAFile, notAFileError } from './file-kind.js';
import { EXTENSIONS, keptExtension } from '../image/encode.js';
import type { OutputFormat } from '../pipeline/spec.js';

export const IMAGE_EXTENSIONS = ['jpg', 'jpeg', 'png', 'webp', 'avif', 'tif', 'tiff', 'gif', 'svg'];

export interface InputFile {
  /** Absolute path. */
  path: string;
  /** Path relative to the folder or glob base it was found under; outputs mirror it. */
  relative: string;
}

/** A file in a folder that a batch leaves out, and why. */
export interface SkippedFile {
  path: string;
  reason: string;
}

const NOT_AN_IMAGE = 'not an image type imgfleet reads';

/** Why a file or key whose name is not an image's is left out. */
export function notAnImage(name: string): string {
  return `${NOT_AN_IMAGE} (${extname(name) || 'no extension'})`;
}

export function isNotAnImage(skipped: SkippedFile): boolean {
  return skipped.reason.startsWith(NOT_AN_IMAGE);
}

export interface CollectedInputs {
  files: InputFile[];
  /** Files found in folders that are not of an image type imgfleet reads. */
  skipped: SkippedFile[];
}

/**
 * Expands files, folders and globs into input files. A folder is searched recursively for
 * images (or for `pattern`); other files in it are reported as skipped. Order is stable:
 * arguments in order, each one's matches sorted.
 */
export async function collectInputs(args: string[], pattern?: string): Promise<CollectedInputs> {
  const found: InputFile[] = [];
  const skipped: SkippedFile[] = [];
  const seen = new Set<string>();
  const add = (path: string, rel: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    found.push({ path, relative: rel });
  };
  for (const arg of args) {
    const info = await stat(arg).catch(() => undefined);
    if (info?.isFile()) {
      add(resolve(arg), basename(arg));
      continue;
    }
    let base: string;
    let matches: string[];
    const sortOut = Boolean(info?.isDirectory()) && !pattern;
    if (sortOut) {
      base = arg;
      const under = filesUnder(arg);
      matches = under.files;
      skipped.push(...under.unreadable);
    } else {
      // Loaded only for a pattern: a plain folder's listing needs none, and loading it cost a run's start about 25 ms.
      const { glob, isDynamicPattern } = await import('tinyglobby');
      let patterns: string[];
      if (info?.isDirectory()) {
        base = arg;
        patterns = [pattern!.includes('/') ? pattern! : `**/${pattern}`];
      } else if (isDynamicPattern(arg)) {
        base = staticBase(arg, isDynamicPattern);
        patterns = [relative(base, arg) || '*'];
      } else {
        const kind = info && notAFile(info);
        throw kind ? notAFileError(arg, kind) : new ImgfleetError('BAD_USAGE', `input not found: ${arg}`);
      }
      matches = (await glob(patterns, { cwd: base, onlyFiles: true, caseSensitiveMatch: false, followSymbolicLinks: true })).sort();
    }
    const images = sortOut ? matches.filter(isImageName) : matches;
    if (sortOut) {
      for (const match of matches.filter((m) => !isImageName(m))) {
        skipped.push({ path: resolve(base, match), reason: notAnImage(match) });
      }
    }
    if (images.length === 0) throw new ImgfleetError('BAD_USAGE', `no images found in ${arg}${pattern ? ` matching ${pattern}` : ''}`);
    for (const match of images) add(resolve(base, match), match);
  }
  return { files: found, skipped };
}

function isImageName(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(extname(name).slice(1).toLowerCase());
}

/**
 * Every file under a folder, as sorted paths relative to it with `/` between parts, the files a
 * glob of everything finds: hidden entries left out, symbolic links followed (a broken one left
 * out) except a link back to a folder that holds it, which would never end; only files and
 * folders (never a pipe, which would block its reader). A folder inside it that cannot be read,
 * and a named pipe, socket or device, are named in `unreadable`.
 */
export function filesUnder(folder: string): { files: string[]; unreadable: SkippedFile[] } {
  const files: string[] = [];
  const unreadable: SkippedFile[] = [];
  const walk = (dir: string, rel: string, holders: string[]) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      if (rel === '') throw new ImgfleetError('BAD_USAGE', `input folder not readable (${code}): ${folder}`);
      unreadable.push({ path: resolve(dir), reason: `folder not readable (${code})` });
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isFile()) {
        files.push(relPath);
        continue;
      }
      const path = join(dir, entry.name);
      const target = entry.isSymbolicLink() ? linkTarget(path) : entry;
      if (target?.isFile()) files.push(relPath);
      else if (target?.isDirectory()) {
        const real = realpathSync(path);
        if (!holders.includes(real)) walk(path, relPath, [...holders, real]);
      } else if (target) unreadable.push({ path: resolve(path), reason: `${notAFile(target)}, not a file` });
    }
  };
  walk(folder, '', [realpathSync(folder)]);
  return { files: files.sort(), unreadable };
}

/** What a symbolic link leads to; undefined for a broken link, or one that leads round in a circle. */
function linkTarget(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** The leading part of a glob without wildcards: `photos/2024/*.jpg` → `photos/2024`. */
function staticBase(pattern: string, isDynamicPattern: (part: string) => boolean): string {
  const parts = pattern.split('/');
  const fixed: string[] = [];
  for (const part of parts) {
    if (isDynamicPattern(part)) break;
    fixed.push(part);
  }
  return fixed.join('/') || '.';
}

/**
 * Output paths that mirror the inputs' relative paths under `outDir`, with the extension of the
 * output format. Refuses, before any work starts, to write over an input or to write two inputs
 * to one output.
 */
export function planOutputs(inputs: InputFile[], outDir: string, format: OutputFormat | undefined): string[] {
  const there = statSync(outDir, { throwIfNoEntry: false });
  if (there && !there.isDirectory()) throw new ImgfleetError('BAD_USAGE', `output folder ${outDir} is ${notAFile(there) ?? 'a file'}: name a folder`);
  const inputPaths = new Set(inputs.map((i) => i.path));
  const claimed = new Map<string, string>();
  return inputs.map((input) => {
    const ext = format ? EXTENSIONS[format] : keptExtension(extname(input.relative));
    const rel = join(dirname(input.relative), basename(input.relative, extname(input.relative)) + ext);
    const output = resolve(outDir, rel);
    if (inputPaths.has(output)) {
      throw new ImgfleetError('BAD_USAGE', `refusing to overwrite input ${output}: choose another output folder`);
    }
    const other = claimed.get(output);
    if (other) throw new ImgfleetError('BAD_USAGE', `${other} and ${input.path} would both write ${output}`);
    claimed.set(output, input.path);
    return output;
  });
}
