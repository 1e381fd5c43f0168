import { stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { ImgfleetError } from '../errors.js';
import { EXTENSIONS } from '../image/encode.js';
import type { OutputFormat } from '../pipeline/spec.js';

export const IMAGE_EXTENSIONS = ['jpg', 'jpeg', 'png', 'webp', 'avif', 'tif', 'tiff', 'gif'];

export interface InputFile {
  /** Absolute path. */
  path: string;
  /** Path relative to the folder or glob base it was found under; outputs mirror it. */
  relative: string;
}

/**
 * Expands files, folders and globs into input files. A folder is searched recursively for
 * images (or for `pattern`). Order is stable: arguments in order, each one's matches sorted.
 */
export async function collectInputs(args: string[], pattern?: string): Promise<InputFile[]> {
  const found: InputFile[] = [];
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
    if (info?.isDirectory()) {
      base = arg;
      patterns = pattern
        ? [pattern.includes('/') ? pattern : `**/${pattern}`]
        : [`**/*.{${IMAGE_EXTENSIONS.join(',')}}`];
    } else if (isDynamicPattern(arg)) {
      base = staticBase(arg);
      patterns = [relative(base, arg) || '*'];
    } else {
      throw new ImgfleetError('BAD_USAGE', `input not found: ${arg}`);
    }
    const matches = await glob(patterns, { cwd: base, onlyFiles: true, caseSensitiveMatch: false, followSymbolicLinks: true });
    if (matches.length === 0) throw new ImgfleetError('BAD_USAGE', `no images found in ${arg}${pattern ? ` matching ${pattern}` : ''}`);
    for (const match of matches.sort()) add(resolve(base, match), match);
  }
  return found;
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
    const ext = format ? EXTENSIONS[format] : extname(input.relative);
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
