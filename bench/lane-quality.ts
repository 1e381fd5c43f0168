/**
 * Quality of each lane against Pillow for the same kernel: `npm run build && node
 * dist/bench/lane-quality.js [--count 40] [--input webp] [--photos large]`. Runs each resize through imgfleet
 * twice (the libjpeg-turbo lane, and libvips with IMGFLEET_JPEG_TURBO=off; with `--input webp`,
 * the same photos as WebPs through the WebP lane, and libvips with IMGFLEET_LIBWEBP=off), and
 * Pillow, on the first images of the Flickr-like corpus (or, with `--photos large`, of the
 * 1600×1200 one), and prints PSNR against a float
 * reference (baselines/pil_lane_quality.py). A lane passes when it is at most 0.5 dB below Pillow.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureCorpus, ensureRewritten, flickrLike, largePhotos } from './corpus.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const { values: args } = parseArgs({ options: { count: { type: 'string', default: '40' }, input: { type: 'string', default: 'jpeg' }, photos: { type: 'string', default: 'flickr' } } });
const count = Number(args.count);
const webp = args.input === 'webp';
const lane = webp ? { name: 'WebP', off: 'IMGFLEET_LIBWEBP' } : { name: 'libjpeg-turbo', off: 'IMGFLEET_JPEG_TURBO' };

const CASES: Array<[width: number, height: number, fit: string, kernel: string, quality: number]> = [
  [512, 512, 'fill', 'cubic', 75],
  [512, 512, 'fill', 'lanczos3', 75],
  [400, 400, 'cover', 'lanczos3', 80],
  [300, 200, 'cover', 'linear', 80],
  [256, 256, 'inside', 'lanczos3', 80],
  [300, 300, 'contain', 'cubic', 80],
  [640, 640, 'outside', 'lanczos3', 80],
];

const jpegs = await ensureCorpus(join(ROOT, '..', 'shared', 'corpus', 'photos'), join(ROOT, 'bench', 'corpus'), args.photos === 'large' ? largePhotos(count) : flickrLike(count));
const corpus = webp ? await ensureRewritten(jpegs, join(ROOT, 'bench', 'corpus'), 'webp') : jpegs;
const work = join(ROOT, 'bench', 'corpus', 'lane-quality');
rmSync(work, { recursive: true, force: true });
const input = join(work, 'in');
mkdirSync(input, { recursive: true });
for (const name of readdirSync(corpus).sort().slice(0, count)) symlinkSync(join(corpus, name), join(input, name));

console.log(`| resize | kernel | JPEG q | Pillow (dB) | ${lane.name} lane (dB) | libvips lane (dB) |\n|---|---|---:|---:|---:|---:|`);
for (const [width, height, fit, kernel, quality] of CASES) {
  const pipeline = `resize:${width}:${height}:fit=${fit}:kernel=${kernel},output:jpeg:${quality}`;
  const outputs = [['lane', {}], ['libvips', { [lane.off]: 'off' }]].map(([name, env]) => {
    const out = join(work, name as string);
    rmSync(out, { recursive: true, force: true });
    execFileSync(process.execPath, [join(ROOT, 'bin', 'imgfleet.js'), 'run', input, '-o', out, '-p', pipeline], { env: { ...process.env, ...(env as object) } });
    return out;
  });
  const psnr = JSON.parse(execFileSync('/usr/bin/python3', [join(ROOT, 'bench', 'baselines', 'pil_lane_quality.py'), input,
    String(width), String(height), fit, kernel, String(quality), ...outputs]).toString()) as Record<string, number>;
  console.log(`| ${width}×${height} ${fit} | ${kernel} | ${quality} | ${psnr.pillow.toFixed(2)} | ${psnr[outputs[0]].toFixed(2)} | ${psnr[outputs[1]].toFixed(2)} |`);
}
rmSync(work, { recursive: true, force: true });
