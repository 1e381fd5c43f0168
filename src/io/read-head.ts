import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { quickHeader } from '../image/quick-header.js';
import { LANE_HEAD_BYTES } from '../pipeline/lane.js';
import { notAFile, OPEN_INPUT } from './file-kind.js';

/**
 * The first read of a head: the header of almost every JPEG and PNG ends within it. The rest of
 * the head is read only when it does not (a JPEG with a large EXIF block, a PNG with an ICC
 * profile first, any other format): a fresh 64 KiB buffer for each image was a fifth of a
 * pool's main-thread time in a batch of small photos.
 */
const FIRST_READ_BYTES = 4096;

/**
 * The first bytes of a file (all of a smaller one): enough for its header and its lane; empty
 * when it cannot be read. Less than `bytes` when a JPEG's or PNG's header ends sooner: every
 * reader of a head stops at the end of the header (a JPEG's frame marker, a PNG's first IDAT).
 */
export function readHead(path: string, bytes = LANE_HEAD_BYTES): Buffer {
  let fd: number;
  try {
    fd = openSync(path, OPEN_INPUT);
  } catch {
    // Missing or unreadable: whatever reads it next reports why.
    return Buffer.alloc(0);
  }
  try {
    if (notAFile(fstatSync(fd))) return Buffer.alloc(0);
    const first = Buffer.allocUnsafe(Math.min(bytes, FIRST_READ_BYTES));
    const got = readSync(fd, first, 0, first.length, 0);
    if (got < first.length || got === bytes || quickHeader(first)) return first.subarray(0, got);
    const head = Buffer.allocUnsafe(bytes);
    first.copy(head);
    return head.subarray(0, got + readSync(fd, head, got, bytes - got, got));
  } finally {
    closeSync(fd);
  }
}
