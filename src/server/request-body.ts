import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { ImgfleetError } from '../errors.js';
import { formatBytes } from '../limits.js';
import type { Source } from '../task/task.js';

/** A body read: in memory, or in a temporary file when it was large. */
export type ReadBody = Extract<Source, { kind: 'bytes' }> | Extract<Source, { kind: 'file' }>;

export interface BodyAccount {
  /** Called with the bytes read so far, as they grow: throws when they no longer fit the budget. */
  grow(total: number): void;
  /** Called with a temporary file to remove when the response ends. */
  onDone(cleanup: () => void): void;
  /** Counts a result held in memory until it is sent (it may pass the budget: it exists already). */
  hold(bytes: number): void;
}

export interface ReadBodyOptions {
  /** More is refused with FILE_TOO_LARGE (413). */
  maxBytes: number;
  /** What the name of the part says in messages. */
  what: string;
  account?: BodyAccount;
  /** Bodies larger than this go to a file under `spillDir` (mode 0600) instead of memory. */
  spillAbove?: number;
  spillDir?: string;
}

/**
 * Reads a request body (or one multipart file) as it streams: never more than `maxBytes`, each
 * chunk counted against the in-flight budget before it is kept, and a large body written to a
 * temporary file as it arrives, so memory holds at most `spillAbove` of it.
 */
export async function readBody(stream: Readable, options: ReadBodyOptions): Promise<ReadBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  let file: WriteStream | undefined;
  let path: string | undefined;
  try {
    for await (const data of stream) {
      const chunk = data as Buffer;
      size += chunk.length;
      if (size > options.maxBytes) {
        throw new ImgfleetError('FILE_TOO_LARGE', `${options.what} is over the limit of ${formatBytes(options.maxBytes)}`);
      }
      options.account?.grow(size);
      if (!file && options.spillAbove !== undefined && options.spillDir && size > options.spillAbove) {
        path = join(options.spillDir, `body-${randomUUID()}`);
        const opened = createWriteStream(path, { mode: 0o600, flags: 'wx' });
        file = opened;
        const spilled = path;
        options.account?.onDone(() => void rm(spilled, { force: true }));
        for (const earlier of chunks.splice(0)) if (!opened.write(earlier)) await once(opened, 'drain');
      }
      if (file) {
        if (!file.write(chunk)) await once(file, 'drain');
      } else chunks.push(chunk);
    }
    if (file && path) {
      file.end();
      await once(file, 'finish');
      return { kind: 'file', path };
    }
    return { kind: 'bytes', bytes: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size) };
  } catch (error) {
    file?.destroy();
    if (path) await rm(path, { force: true });
    throw error;
  }
}
