/**
 * Deterministic benchmark corpora cut from the shared photos: the same count always gives the
 * same files, byte for byte.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import type { RawImage } from '../src/image/frame.js';

const SOURCES = ['Aqua.jpg', 'Blinds.jpg', 'Dune.jpg', 'FreshFlower.jpg', 'Garden.jpg', 'GreenMeadow.jpg', 'LadyBird.jpg',
  'RainDrops.jpg', 'Storm.jpg', 'TwoWings.jpg', 'Wood.jpg', 'YellowFlower.jpg', 'retina.jpg', 'hubble_deep_field.jpg',
  'rocket.jpg', 'astronaut.png', 'coffee.png', 'chelsea.png', 'motorcycle_left.png', 'ihc.png'];

/** Flickr8k's photos are about 500 px on the long side, mostly landscape. */
const FLICKR_SHAPES: [number, number][] = [[500, 375], [500, 333], [500, 375], [375, 500], [500, 334], [500, 357], [333, 500]];

export interface CorpusSpec {
  name: string;
  count: number;
  /** Output shapes, picked in turn. */
  shapes: [number, number][];
  /** Decode the sources at most this many pixels on the long side first. */
  sourceSide: number;
  /** Source files, relative to the photos folder. @defaultValue SOURCES */
  sources?: string[];
  /** JPEG quality range. @defaultValue [80, 95] */
  quality?: [number, number];
}

export const flickrLike = (count: number): CorpusSpec => ({ name: `flickr-${count}`, count, shapes: FLICKR_SHAPES, sourceSide: 1400 });
export const largePhotos = (count: number): CorpusSpec => ({ name: `large-${count}`, count, shapes: [[1600, 1200], [1600, 1067], [1200, 1600]], sourceSide: 2560 });

/**
 * Camera-sized photos, 3 to 12 MP, from the shared corpus' largest photos (1.3–4.9 MP, and the
 * 14.7 MP one): those above the source's size are scaled up, so they are smoother than a camera's.
 */
export const cameraPhotos = (count: number): CorpusSpec => ({
  name: `camera-${count}`, count, sourceSide: 5120, quality: [85, 95],
  shapes: [[4000, 3000], [2048, 1536], [3264, 2448], [3000, 2000], [2448, 3264], [2592, 1944]],
  sources: ['Aqua.jpg', 'Blinds.jpg', 'Dune.jpg', 'FreshFlower.jpg', 'Garden.jpg', 'GreenMeadow.jpg', 'LadyBird.jpg',
    'RainDrops.jpg', 'Storm.jpg', 'TwoWings.jpg', 'Wood.jpg', 'YellowFlower.jpg', 'retina.jpg', '../large/volna-5120x2880.jpg'],
});

/** Creates (once) and returns the folder of a corpus. */
export async function ensureCorpus(photosDir: string, root: string, spec: CorpusSpec): Promise<string> {
  const dir = join(root, spec.name);
  if (existsSync(dir) && readdirSync(dir).filter((f) => f.endsWith('.jpg')).length === spec.count) return dir;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const sources = await Promise.all((spec.sources ?? SOURCES).map((name) => decodeSource(join(photosDir, name), spec.sourceSide)));
  const [minQuality, maxQuality] = spec.quality ?? [80, 95];
  let next = 0;
  const worker = async () => {
    while (next < spec.count) {
      const i = next++;
      // Each image draws from its own seed, so a smaller corpus is a prefix of a larger one.
      const random = mulberry32(8091 + i * 7919);
      const source = sources[i % sources.length];
      const [w, h] = spec.shapes[i % spec.shapes.length];
      // A random crop of the source with the target's aspect ratio, 60–100 % of the largest that fits.
      const fit = Math.min(source.width / w, source.height / h);
      const scale = fit * (0.6 + 0.4 * random());
      const cw = Math.max(1, Math.floor(w * scale));
      const ch = Math.max(1, Math.floor(h * scale));
      const left = Math.floor(random() * (source.width - cw + 1));
      const top = Math.floor(random() * (source.height - ch + 1));
      const quality = minQuality + Math.floor(random() * (maxQuality - minQuality + 1));
      const bytes = await sharp(source.data, { raw: { width: source.width, height: source.height, channels: source.channels } })
        .extract({ left, top, width: cw, height: ch }).resize(w, h, { fit: 'fill' })
        .jpeg({ quality }).toBuffer();
      await writeFile(join(dir, `${String(i).padStart(5, '0')}.jpg`), bytes);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  return dir;
}

async function decodeSource(path: string, side: number): Promise<RawImage> {
  const { data, info } = await sharp(path).resize(side, side, { fit: 'inside', withoutEnlargement: true })
    .removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: 3 };
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Tiny distinct PNGs, to measure what each job costs beyond its pixels. */
export async function ensureTinyCorpus(root: string, count: number): Promise<string> {
  const dir = join(root, `tiny-${count}`);
  if (existsSync(dir) && readdirSync(dir).length === count) return dir;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const random = mulberry32(i + 1);
    const pixels = Buffer.from(Array.from({ length: 16 * 16 * 3 }, () => Math.floor(random() * 256)));
    await writeFile(join(dir, `${String(i).padStart(5, '0')}.png`), await sharp(pixels, { raw: { width: 16, height: 16, channels: 3 } }).png().toBuffer());
  }
  return dir;
}

/**
 * A folder holding one 100 MP JPEG (13333×7500): the 14.7 MP photo of the shared corpus,
 * scaled up with libvips, so the same every time.
 */
export async function ensureHugeImage(source: string, root: string): Promise<string> {
  const dir = join(root, 'huge-100mp');
  const file = join(dir, 'huge.jpg');
  if (existsSync(file)) return dir;
  await mkdir(dir, { recursive: true });
  const part = join(root, 'huge-100mp.part.jpg');
  await sharp(source).resize(13_333, 7500, { fit: 'fill', kernel: 'cubic' }).jpeg({ quality: 90 }).toFile(part);
  await rename(part, file);
  return dir;
}

/** How a derived corpus is written from a JPEG corpus: by Pillow or by sharp, in colour or grey, or as WebP. */
export type Rewrite = 'png-pillow' | 'png-sharp' | 'grey-jpeg' | 'grey-png-pillow' | 'webp';

/**
 * A corpus of the same images as `source`, written again: PNGs with Pillow's defaults (zlib
 * level 6, a filter chosen per row) or sharp's (level 6, no filter), grey, or lossy WebPs at
 * libwebp's quality 80 (what cwebp and sharp write by default). Made once.
 */
export async function ensureRewritten(source: string, root: string, how: Rewrite): Promise<string> {
  const dir = join(root, `${basename(source)}-${how}`);
  const count = readdirSync(source).length;
  if (existsSync(dir) && readdirSync(dir).length === count) return dir;
  const part = `${dir}.part`;
  await rm(dir, { recursive: true, force: true });
  await rm(part, { recursive: true, force: true });
  await mkdir(part, { recursive: true });
  if (how === 'png-pillow' || how === 'grey-png-pillow') {
    execFileSync('/usr/bin/python3', [new URL('../../bench/pil_corpus.py', import.meta.url).pathname, how, source, part]);
  } else {
    for (const name of readdirSync(source).sort()) {
      const stem = basename(name, '.jpg');
      if (how === 'png-sharp') await sharp(join(source, name)).png().toFile(join(part, `${stem}.png`));
      else if (how === 'webp') await sharp(join(source, name)).webp({ quality: 80 }).toFile(join(part, `${stem}.webp`));
      else await sharp(join(source, name)).toColourspace('b-w').jpeg({ quality: 90 }).toFile(join(part, `${stem}.jpg`));
    }
  }
  await rename(part, dir);
  return dir;
}
