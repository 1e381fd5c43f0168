import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { checkFileSize, DEFAULT_LIMITS } from '../limits.js';
import { resolve } from 'node:path';
import { ImgfleetError, toErrorInfo } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { processImage, type ProcessOptions } from '../pipeline/process.js';
import { validatePipeline } from '../pipeline/validate.js';
import type { FileTask, TaskOutcome } from './types.js';

/** Reads the input, runs the pipeline and writes the output atomically; never throws. */
export async function runFileTask(task: FileTask, worker: string, options: ProcessOptions = {}): Promise<TaskOutcome> {
  const limits = { ...options.limits, ...task.limits };
  try {
    if (task.outputPath && resolve(task.outputPath) === resolve(task.inputPath)) {
      throw new ImgfleetError('BAD_USAGE', 'refusing to write the output over its input');
    }
    const pipeline = validatePipeline(task.spec, { maxSteps: Number.MAX_SAFE_INTEGER });
    const input = readInput(task.inputPath, limits.maxFileBytes ?? DEFAULT_LIMITS.maxFileBytes);
    const result = await processImage(input, pipeline, { ...options, limits });
    if (result.kind === 'data') return { ok: true, data: result.data, stats: result.stats, worker };
    if (!task.outputPath) throw new ImgfleetError('BAD_USAGE', 'no output path for an image result');
    writeFileAtomic(task.outputPath, result.data);
    return {
      ok: true, worker, stats: result.stats,
      output: { path: task.outputPath, bytes: result.data.length, width: result.width, height: result.height, format: result.format },
    };
  } catch (error) {
    return { ok: false, error: toErrorInfo(error), worker };
  }
}

/** Reads a whole file, checking its size before reading a byte of it. */
export function readInput(path: string, maxBytes: number = DEFAULT_LIMITS.maxFileBytes): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ImgfleetError('BAD_USAGE', `input not found: ${path}`);
    throw error;
  }
  try {
    const info = fstatSync(fd);
    if (info.isDirectory()) throw new ImgfleetError('BAD_USAGE', `input is a folder: ${path}`);
    if (info.size > maxBytes) checkFileSize(info.size, { ...DEFAULT_LIMITS, maxFileBytes: maxBytes });
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
