import { readFile } from 'node:fs/promises';
import { pipelineError } from '../errors.js';
import { parseCompact } from './compact.js';

/**
 * Reads a pipeline as the CLI's -p takes it: inline JSON, `@path/to/pipeline.json` (JSON or
 * compact syntax inside), or the compact syntax. Returns the unvalidated spec.
 */
export async function readPipelineArgument(text: string): Promise<unknown> {
  const trimmed = text.trim();
  if (trimmed.startsWith('@')) {
    const path = trimmed.slice(1);
    let content: string;
    try {
      content = await readFile(path, 'utf8');
    } catch (error) {
      throw pipelineError(`pipeline file ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (error as Error).message}`);
    }
    return parsePipelineText(content);
  }
  return parsePipelineText(trimmed);
}

export function parsePipelineText(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      return JSON.parse(trimmed);
    } catch (error) {
      throw pipelineError(`pipeline JSON: ${(error as Error).message}`);
    }
  }
  return parseCompact(trimmed);
}
