import { createServer, type Server } from 'node:http';

/** An origin on 127.0.0.1: /a.png, /big (2 KiB), /to-127.0.0.2, /to-elsewhere, /hang, anything else 404. */
export async function startOrigin(): Promise<{ server: Server; url: string; port: number }> {
  const server = createServer((request, response) => {
    const port = (server.address() as { port: number }).port;
    switch (request.url) {
      case '/a.png': return response.end(Buffer.from('png bytes'));
      case '/big': return response.end(Buffer.alloc(2048, 1));
      case '/to-127.0.0.2': return response.writeHead(302, { location: `http://127.0.0.2:${port}/a.png` }).end();
      case '/to-elsewhere': return response.writeHead(302, { location: 'http://example.com/a.png' }).end();
      case '/to-self': return response.writeHead(301, { location: '/a.png' }).end();
      case '/hang': return; // never answers
      default: return response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { server, port, url: `http://127.0.0.1:${port}/` };
}
