import { closeSync, openSync, readSync } from 'node:fs';
import { LANE_HEAD_BYTES } from '../pipeline/lane.js';

/** The first bytes of a file (all of a smaller one): enough for its header and its lane; empty when it cannot be read. */
export function readHead(path: string, bytes = LANE_HEAD_BYTES): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    // Missing or unreadable: whatever reads it next reports why.
    return Buffer.alloc(0);
  }
  try {
    const head = Buffer.allocUnsafe(bytes);
    return head.subarray(0, readSync(fd, head, 0, bytes, 0));
  } finally {
    closeSync(fd);
  }
}
