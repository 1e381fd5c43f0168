import { statSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { ImgfleetError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { notAFile } from '../io/file-kind.js';
import { readFileLimited } from '../io/read-file.js';
import { checkFileSize, DEFAULT_LIMITS } from '../limits.js';
import type { Sink, Source } from './task.js';

/** How a place reaches sources and sinks. Each place supplies the kinds it can reach. */
export interface TaskIo {
  /** The source's bytes; a source larger than `maxBytes` is refused before it is read. */
  read(source: Source, maxBytes: number): Promise<Buffer>;
  /** Writes an image result to its sink (never a `bytes` or `none` sink: those stay with the caller). */
  write(sink: Sink, bytes: Uint8Array): Promise<void>;
  /** Refuses, before any work, a sink this place may not write. */
  checkSink(sink: Sink): Promise<void>;
  /**
   * The path of a file source that libvips may read itself, from its own threads (checked and
   * within the size limit): for work that happens all in libvips, a large file then never passes
   * through the thread that starts it. Undefined for other sources.
   */
  pathOf?(source: Source, maxBytes: number): Promise<string | undefined>;
}

export interface LocalIoOptions {
  /**
   * File sources and sinks only inside these folders (a cluster worker's shared folders): paths
   * in a task are data from Redis, not commands. Without it, any path (the CLI's own files).
   */
  roots?: string[];
}

/** Files (read and written synchronously: on pool threads that saves a thread-pool round trip) and bytes. */
export function localIo(options: LocalIoOptions = {}): TaskIo {
  const roots = options.roots?.map((root) => resolve(root));
  const allowed = async (path: string, role: 'input' | 'output'): Promise<string> => {
    if (!roots) return path;
    if (roots.length === 0) throw new ImgfleetError('FORBIDDEN', `this worker takes no file paths, only uploaded images (start it with --shared-fs-root <folder>)`);
    const absolute = resolve(path);
    const real = await realAncestor(absolute);
    const realRoots = await Promise.all(roots.map((root) => realpath(root).catch(() => root)));
    if (!realRoots.some((root) => inside(root, real)) || !roots.some((root) => inside(root, absolute))) {
      throw new ImgfleetError('FORBIDDEN', `${role} path is outside the folders this worker may use (--shared-fs-root)`);
    }
    return absolute;
  };
  return {
    async read(source, maxBytes) {
      if (source.kind === 'bytes') {
        checkFileSize(source.bytes.byteLength, { ...DEFAULT_LIMITS, maxFileBytes: maxBytes });
        return Buffer.from(source.bytes.buffer, source.bytes.byteOffset, source.bytes.byteLength);
      }
      if (source.kind === 'file') return readFileLimited(await allowed(source.path, 'input'), maxBytes);
      throw new ImgfleetError('INTERNAL', `a ${source.kind} source cannot be read here`);
    },
    async write(sink, bytes) {
      if (sink.kind !== 'file') throw new ImgfleetError('INTERNAL', `a ${sink.kind} sink cannot be written here`);
      writeFileAtomic(await allowed(sink.path, 'output'), bytes);
    },
    async checkSink(sink) {
      if (sink.kind === 'file') await allowed(sink.path, 'output');
    },
    async pathOf(source, maxBytes) {
      if (source.kind !== 'file') return undefined;
      const path = await allowed(source.path, 'input');
      let info;
      try {
        info = statSync(path);
      } catch {
        // Missing or unreadable: the read says which, in the words it always uses.
        readFileLimited(path, maxBytes);
        throw new ImgfleetError('BAD_USAGE', `input not readable: ${path}`);
      }
      // A folder, a named pipe…: the read refuses it, saying what it is.
      if (notAFile(info)) readFileLimited(path, maxBytes);
      checkFileSize(info.size, { ...DEFAULT_LIMITS, maxFileBytes: maxBytes });
      return path;
    },
  };
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** The real path of the nearest folder of `path` that exists (an output's folder may not yet). */
async function realAncestor(path: string): Promise<string> {
  let dir = path;
  for (;;) {
    const real = await realpath(dir).catch(() => undefined);
    if (real) return real;
    const parent = dirname(dir);
    if (parent === dir) return dir;
    dir = parent;
  }
}
