// The benchmark matrix's rows as a Node user writes them with plain sharp: its defaults
// (libvips threads, cache, Huffman-optimised JPEG), four images in flight, each one
// `sharp(file).resize(...).<format>({ quality }).toFile(...)`.
//
// usage: node sharp_matrix.mjs <row id> <input dir> <output dir>
//        node sharp_matrix.mjs --list
import { mkdirSync, readdirSync } from 'node:fs';
import { join, parse } from 'node:path';
import sharp from 'sharp';

// Text as a sharp user draws it: an SVG composited on top, sized and placed as imgfleet's default.
function watermark(image, width, height) {
  const shorter = Math.min(width, height);
  const size = Math.max(8, Math.round(shorter * 0.06));
  const margin = Math.round(shorter * 0.02);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <text x="${width - margin}" y="${height - margin}" text-anchor="end" font-family="DejaVu Sans" font-weight="bold"
      font-size="${size}" fill="#fff" fill-opacity="0.5">imgfleet</text></svg>`;
  return image.composite([{ input: Buffer.from(svg) }]);
}

// Each row: the output's extension, and the image to write.
const rows = {
  's-fill': ['.jpg', (f) => sharp(f).resize(512, 512, { fit: 'fill', kernel: 'cubic' }).jpeg({ quality: 75 })],
  's-cover': ['.jpg', (f) => sharp(f).resize(400, 400).jpeg({ quality: 80 })],
  's-grey': ['.png', (f) => sharp(f).grayscale().png()],
  's-webp': ['.webp', (f) => sharp(f).webp({ quality: 80 })],
  's-watermark': ['.jpg', async (f) => {
    const { width, height } = await sharp(f).metadata();
    return watermark(sharp(f), width, height).jpeg({ quality: 80 });
  }],
  's-png-cover': ['.jpg', (f) => sharp(f).resize(200, 200).jpeg({ quality: 80 })],
  's-png-webp': ['.webp', (f) => sharp(f).webp({ quality: 80 })],
  's-png-thumb': ['.webp', (f) => sharp(f).resize(256, 256, { fit: 'inside' }).webp({ quality: 80 })],
  's-png-avif': ['.avif', (f) => sharp(f).avif({ quality: 50 })],
  's-grey-thumb': ['.jpg', (f) => sharp(f).resize(256, 256, { fit: 'inside' }).jpeg({ quality: 80 })],
  's-grey-webp': ['.webp', (f) => sharp(f).webp({ quality: 80 })],
  's-webp-thumb': ['.jpg', (f) => sharp(f).resize(256, 256, { fit: 'inside' }).jpeg({ quality: 80 })],
  'l-inside': ['.jpg', (f) => sharp(f).resize(512, 512, { fit: 'inside' }).jpeg({ quality: 80 })],
  'l-cover': ['.jpg', (f) => sharp(f).resize(300, 300).jpeg({ quality: 80 })],
  'l-sharpen': ['.webp', (f) => sharp(f).resize(256, 256, { fit: 'inside' }).sharpen({ sigma: 1 }).webp({ quality: 80 })],
  'l-watermark': ['.webp', async (f) => {
    const { width, height } = await sharp(f).metadata();
    const image = sharp(f).resize(400).blur(1.5);
    return watermark(image, 400, Math.round((height * 400) / width)).webp({ quality: 80 });
  }],
  'l-webp': ['.webp', (f) => sharp(f).resize(1600).webp({ quality: 80 })],
  'l-avif': ['.avif', (f) => sharp(f).resize(1024, 1024, { fit: 'inside' }).avif({ quality: 50 })],
};

const [row, input, output] = process.argv.slice(2);
if (row === '--list') {
  console.log(Object.keys(rows).join('\n'));
} else {
  mkdirSync(output, { recursive: true });
  const names = readdirSync(input).sort();
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const name = names[next++];
      const [extension, make] = rows[row];
      const image = await make(join(input, name));
      await image.toFile(join(output, parse(name).name + extension));
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}
