import { stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { ImgfleetError } from '../errors.js';
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
    let patterns: string[];
    let sortOut = false;
    if (info?.isDirectory()) {
      base = arg;
      patterns = pattern ? [pattern.includes('/') ? pattern : `**/${pattern}`] : ['**/*'];
      sortOut = !pattern;
    } else if (isDynamicPattern(arg)) {
      base = staticBase(arg);
      patterns = [relative(base, arg) || '*'];
    } else {
      throw new ImgfleetError('BAD_USAGE', `input not found: ${arg}`);
    }
    const matches = (await glob(patterns, { cwd: base, onlyFiles: true, caseSensitiveMatch: false, followSymbolicLinks: true })).sort();
    const images = sortOut ? matches.filter(isImageName) : matches;
    if (sortOut) {
      for (const match of matches.filter((m) => !isImageName(m))) {
        skipped.push({ path: resolve(base, match), reason: `not an image type imgfleet reads (${extname(match) || 'no extension'})` });
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

/** The leading part of a glob without wildcards: `photos/2024/*.jpg` → `photos/2024`. */
function staticBase(pattern: string): string {
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
