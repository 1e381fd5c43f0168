import type { FastifyInstance } from 'fastify';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ImgfleetError } from '../../errors.js';

/** The page's files live next to the sources (they need no build) and are read once. */
const UI_DIR = fileURLToPath(new URL('../../../../src/server/ui/', import.meta.url));
const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'icon.svg': 'image/svg+xml',
};

export async function pageRoutes(app: FastifyInstance): Promise<void> {
  const cache = new Map<string, Buffer>();
  const serve = async (name: string) => {
    if (!(name in FILES)) throw new ImgfleetError('NOT_FOUND', `no file ${name}`);
    let body = cache.get(name);
    if (!body) {
      body = await readFile(UI_DIR + name);
      cache.set(name, body);
    }
    return body;
  };
  const hide = { schema: { hide: true } };
  app.get('/', hide, async (_request, reply) => reply.type(FILES['index.html']).header('Cache-Control', 'no-cache').send(await serve('index.html')));
  app.get<{ Params: { file: string } }>('/ui/:file', hide, async (request, reply) => {
    const body = await serve(request.params.file);
    return reply.type(FILES[request.params.file]).header('Cache-Control', 'no-cache').send(body);
  });
}
