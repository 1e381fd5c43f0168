/**
 * The soak's clients: each sends, one after another until the time is up, a request of a kind
 * drawn at random — an image processed, a histogram, a batch job (started, followed, its archive
 * read, deleted), an image URL, a bad file, an upload aborted halfway, a slow client that
 * trickles its body and reads its answer late — and records how the server answered.
 */
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export const KINDS = ['process', 'histogram', 'job', 'image-url', 'bad-file', 'aborted-upload', 'slow-client'] as const;
export type Kind = (typeof KINDS)[number];

/** How often each kind is drawn, out of their sum. */
const WEIGHTS: Record<Kind, number> = { 'process': 5, 'histogram': 4, 'job': 1, 'image-url': 6, 'bad-file': 2, 'aborted-upload': 1, 'slow-client': 1 };

export interface Answer {
  kind: Kind;
  /** The HTTP status, or `aborted` for an upload the client cut off itself, or `error: …` when no answer came. */
  status: number | 'aborted' | string;
  ms: number;
}

export interface TrafficInput {
  base: string;
  /** Small photos, sent as uploads. */
  images: Buffer[];
  /** Files that are not images, or broken ones. */
  badFiles: Buffer[];
  /** Paths of signed image URLs. */
  urls: string[];
}

/** Runs `clients` clients until `until` (performance.now()), calling `record` with every answer. */
export async function runTraffic(input: TrafficInput, clients: number, until: number, record: (answer: Answer) => void): Promise<void> {
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const total = Object.values(WEIGHTS).reduce((s, w) => s + w, 0);
  const draw = (): Kind => {
    let r = random() * total;
    for (const kind of KINDS) if ((r -= WEIGHTS[kind]) < 0) return kind;
    return 'process';
  };
  const one = async (kind: Kind): Promise<Answer['status']> => {
    switch (kind) {
      // Widths and bins vary, so that some requests compute and others hit the result cache.
      case 'process': return post(input.base, `/v1/process?pipeline=${encodeURIComponent(`resize:${200 + 8 * Math.floor(random() * 50)},sharpen,output:webp`)}`, pick(input.images));
      case 'histogram': return post(input.base, `/v1/histogram?bins=${pick([8, 16, 32, 64, 256])}`, pick(input.images));
      case 'image-url': return get(input.base, pick(input.urls));
      case 'bad-file': return post(input.base, '/v1/process?pipeline=negate', pick(input.badFiles));
      case 'job': return job(input.base, [pick(input.images), pick(input.images), pick(input.images)]);
      case 'aborted-upload': return aborted(input.base, pick(input.images));
      case 'slow-client': return slow(input.base, pick(input.images));
    }
  };
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < until) {
      const kind = draw();
      const started = performance.now();
      const status = await one(kind).catch((error: Error) => `error: ${error.message}`);
      record({ kind, status, ms: Math.round(performance.now() - started) });
    }
  }));
}

async function post(base: string, path: string, body: Buffer): Promise<number> {
  const response = await fetch(`${base}${path}`, { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': 'application/octet-stream' }, signal: AbortSignal.timeout(180_000) });
  await response.arrayBuffer();
  return response.status;
}

async function get(base: string, path: string): Promise<number> {
  const response = await fetch(`${base}${path}`, { headers: { accept: 'image/webp,*/*' }, signal: AbortSignal.timeout(180_000) });
  await response.arrayBuffer();
  return response.status;
}

/** A batch job of a few images: started, followed until it ends, its archive read, then deleted. The worst status on the way. */
async function job(base: string, images: Buffer[]): Promise<number> {
  const form = new FormData();
  form.set('pipeline', 'resize:256,output:jpeg');
  images.forEach((image, i) => form.append('file', new Blob([new Uint8Array(image)], { type: 'image/jpeg' }), `photo-${i}.jpg`));
  const started = await fetch(`${base}/v1/jobs`, { method: 'POST', body: form, signal: AbortSignal.timeout(180_000) });
  const body = await started.json() as { id?: string };
  if (started.status !== 202 || !body.id) return started.status;
  const at = `${base}/v1/jobs/${body.id}`;
  for (let state = 'running'; state !== 'done';) {
    await sleep(200);
    const status = await fetch(at, { signal: AbortSignal.timeout(60_000) });
    if (status.status !== 200) return status.status;
    state = ((await status.json()) as { state: string }).state;
  }
  const archive = await fetch(`${at}/archive`, { signal: AbortSignal.timeout(120_000) });
  await archive.arrayBuffer();
  const deleted = await fetch(at, { method: 'DELETE', signal: AbortSignal.timeout(60_000) });
  await deleted.arrayBuffer();
  return Math.max(archive.status, deleted.status === 204 ? 200 : deleted.status);
}

/** An upload that announces its length, sends half of it, and goes away. */
function aborted(base: string, image: Buffer): Promise<Answer['status']> {
  return new Promise((resolve) => {
    const req = request(`${base}/v1/process?pipeline=negate`, {
      method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': image.length },
    }, (response) => { response.resume(); resolve(response.statusCode!); req.destroy(); });
    req.on('error', () => resolve('aborted'));
    req.write(image.subarray(0, image.length >> 1), () => setTimeout(() => { req.destroy(); resolve('aborted'); }, 100));
  });
}

/** A client on a slow line: its body in small pieces over about three seconds, its answer read only after a pause. */
function slow(base: string, image: Buffer): Promise<Answer['status']> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/v1/process?pipeline=${encodeURIComponent('resize:200,output:png')}`, {
      method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': image.length },
    }, (response) => {
      response.pause();
      setTimeout(() => {
        response.resume();
        response.on('end', () => resolve(response.statusCode!));
        response.on('error', reject);
      }, 2000);
    });
    req.on('error', reject);
    const pieces = 12;
    const size = Math.ceil(image.length / pieces);
    void (async () => {
      for (let i = 0; i < pieces; i++) {
        req.write(image.subarray(i * size, (i + 1) * size));
        await sleep(250);
      }
      req.end();
    })();
  });
}
