// An image server as a Node user writes one with plain sharp: the body in, `?format=` out, resized
// inside 512 px with sharp's defaults (libvips' threads and cache, each encoder's default effort).
// usage: node sharp_server.mjs   (prints "listening on http://127.0.0.1:<port>"; bench/on-request.ts starts it)
import { createServer } from 'node:http';
import sharp from 'sharp';

const server = createServer(async (request, response) => {
  try {
    const chunks = [];
    for await (const chunk of request) chunks.push(chunk);
    const format = new URL(request.url, 'http://x').searchParams.get('format') ?? 'jpeg';
    const body = await sharp(Buffer.concat(chunks)).resize(512, 512, { fit: 'inside' }).toFormat(format).toBuffer();
    response.writeHead(200, { 'content-type': `image/${format}` }).end(body);
  } catch (error) {
    response.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
  }
});
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
// Clients keep their connections open: close them too, or the server waits out their keep-alive.
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
