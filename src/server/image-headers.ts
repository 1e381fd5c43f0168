import type { FastifyReply } from 'fastify';
import { extname } from 'node:path';
import { CONTENT_TYPES, EXTENSIONS } from '../image/encode.js';
import type { OutputFormat } from '../pipeline/spec.js';

/** The headers of an image response: its type, a download name from the source's, and its size. */
export function imageHeaders(reply: FastifyReply, sourceName: string, format: OutputFormat, size: { width: number; height: number }): FastifyReply {
  return reply
    .type(CONTENT_TYPES[format])
    .header('Content-Disposition', `inline; filename="${downloadStem(sourceName)}${EXTENSIONS[format]}"`)
    .header('X-Image-Width', String(size.width))
    .header('X-Image-Height', String(size.height));
}

/** A file name's stem, cleaned for a Content-Disposition header. */
export function downloadStem(name: string): string {
  return name.slice(0, name.length - extname(name).length).replace(/[^A-Za-z0-9._-]+/g, '_') || 'image';
}

/** Who made a result, as a response says it: the worker, without the host a pool thread runs on. */
export function workerLabel(worker: string): string {
  return worker.slice(worker.lastIndexOf('/') + 1);
}
