import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { ImgfleetError } from '../../errors.js';

/** The page's files live next to the sources (they need no build) and are read once. */
const UI_DIR = fileURLToPath(new URL('../../../../src/server/ui/', import.meta.url));
const SCRIPT = 'text/javascript; charset=utf-8';
const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': SCRIPT,
  'dom.js': SCRIPT,
  'words.js': SCRIPT,
  'steps.js': SCRIPT,
  'preview.js': SCRIPT,
  'run.js': SCRIPT,
  'viewer.js': SCRIPT,
  'chart.js': SCRIPT,
  'info.js': SCRIPT,
  'presets.js': SCRIPT,
  'style.css': 'text/css; charset=utf-8',
  'icon.svg': 'image/svg+xml',
};

export async function pageRoutes(app: FastifyInstance): Promise<void> {
  const cache = new Map<string, { plain: Buffer; gzip: Buffer }>();
  const serve = async (name: string, request: FastifyRequest, reply: FastifyReply) => {
    if (!Object.hasOwn(FILES, name)) throw new ImgfleetError('NOT_FOUND', `no file ${name}`);
    let body = cache.get(name);
    if (!body) {
      const plain = await readFile(UI_DIR + name);
      body = { plain, gzip: gzipSync(plain, { level: 9 }) };
      cache.set(name, body);
    }
    reply.type(FILES[name]).header('Cache-Control', 'no-cache').header('Vary', 'Accept-Encoding');
    // Compressed once, when first asked for: the whole page is about a third of its size so.
    if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) return reply.header('Content-Encoding', 'gzip').send(body.gzip);
    return reply.send(body.plain);
  };
  const hide = { schema: { hide: true } };
  app.get('/', hide, (request, reply) => serve('index.html', request, reply));
  app.get<{ Params: { file: string } }>('/ui/:file', hide, (request, reply) => serve(request.params.file, request, reply));
}
