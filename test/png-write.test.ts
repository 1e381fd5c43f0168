import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import sharp from 'sharp';
import type { RawImage } from '../src/image/frame.js';
import { pngRowsOf, pngWriterTakes, writePng } from '../src/image/png-write.js';
import { parsePipelineText } from '../src/pipeline/load.js';
import { processImage } from '../src/pipeline/process.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import { decode, photo, synthetic } from './helpers.js';

const pipeline = (text: string) => validatePipeline(parsePipelineText(text));

/** What Pillow reads from a PNG: its mode, size and the SHA-256 of its pixels. */
function pillowReads(png: Buffer): string {
  return execFileSync('/usr/bin/python3', ['-c', `import sys, hashlib, io
from PIL import Image
image = Image.open(io.BytesIO(sys.stdin.buffer.read()))
image.load()
print(image.mode, image.size[0], image.size[1], hashlib.sha256(image.tobytes()).hexdigest())`], { input: png }).toString().trim();
}

/** The pixels without RGBX's padding byte: what the PNG should hold. */
function stored(image: RawImage): { data: Buffer; channels: number } {
  if (image.channels !== 4) return { data: image.data, channels: image.channels };
  const data = Buffer.alloc(image.width * image.height * 3);
  for (let p = 0; p < image.width * image.height; p++) image.data.copy(data, p * 3, p * 4, p * 4 + 3);
  return { data, channels: 3 };
}

/** The chunks of a PNG, each with its CRC checked. */
function chunks(png: Buffer): Array<{ type: string; data: Buffer }> {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'the PNG signature');
  const found = [];
  for (let pos = 8; pos < png.length;) {
    const length = png.readUInt32BE(pos);
    const type = png.toString('latin1', pos + 4, pos + 8);
    assert.equal(png.readUInt32BE(pos + 8 + length), zlib.crc32(png.subarray(pos + 4, pos + 8 + length)), `${type}'s CRC`);
    found.push({ type, data: png.subarray(pos + 8, pos + 8 + length) });
    pos += 12 + length;
  }
  return found;
}

/** libpng's choice for a row, written here from the PNG specification: the filter whose bytes, read as signed, sum least in magnitude. */
function expectedFilters(image: RawImage): number[] {
  const { data, channels } = stored(image);
  const rowBytes = image.width * channels;
  const at = (y: number, i: number) => (y < 0 || i < 0 ? 0 : data[y * rowBytes + i]);
  const paeth = (a: number, b: number, c: number) => {
    const p = a + b - c;
    const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
  };
  const predictors = [
    () => 0,
    (y: number, i: number) => at(y, i - channels),
    (y: number, i: number) => at(y - 1, i),
    (y: number, i: number) => (at(y, i - channels) + at(y - 1, i)) >> 1,
    (y: number, i: number) => paeth(at(y, i - channels), at(y - 1, i), at(y - 1, i - channels)),
  ];
  return Array.from({ length: image.height }, (_, y) => {
    const costs = predictors.map((predict) => {
      let sum = 0;
      for (let i = 0; i < rowBytes; i++) {
        const byte = (at(y, i) - predict(y, i)) & 255;
        sum += byte < 128 ? byte : 256 - byte;
      }
      return sum;
    });
    return costs.indexOf(Math.min(...costs));
  });
}

/** A drawing of boxes and lines (an SVG, 1024×768): flat colours and repeated shapes, no text. */
const boxes = Array.from({ length: 40 }, (_, i) => {
  const [x, y] = [20 + (i % 8) * 120, 70 + Math.floor(i / 8) * 130];
  return `<rect x="${x}" y="${y}" width="100" height="110" rx="8" fill="${['#e8eef7', '#fff', '#dfe'][i % 3]}" stroke="#678" stroke-width="2"/><line x1="${x + 10}" y1="${y + 20}" x2="${x + 90}" y2="${y + 20}" stroke="#345" stroke-width="3"/>`;
});
const drawing = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="1024" height="768"><rect width="1024" height="768" fill="#f4f4f4"/><rect width="1024" height="48" fill="#2b5797"/>${boxes.join('')}</svg>`);

describe('PNG writer (for the pixel lanes, without libvips)', () => {
  // Sides that leave partial vectors at the ends of rows; content where each filter wins somewhere.
  const images: Array<[string, RawImage]> = [
    ['grey 37×23', synthetic(37, 23, 1, (x, y) => (x * 7 + y * y * 3) % 256)],
    ['RGB 61×17', synthetic(61, 17, 3, (x, y, c) => (y % 3 === 0 ? 90 : (x * (c + 1) * 5 + y * 11 + ((x * y) % 13) * 9) % 256))],
    ['RGBX 45×31', synthetic(45, 31, 4, (x, y, c) => (c === 3 ? 201 : y < 10 ? x * 5 + c : (x ^ y) * 7 + c * 50) % 256)],
  ];

  it('writes PNGs that Pillow and libvips read back to exactly the pixels given, RGBX without its padding', async () => {
    for (const [name, image] of images) {
      const png = await writePng(pngRowsOf(image), 2);
      const { data, channels } = stored(image);
      assert.equal(pillowReads(png), `${channels === 1 ? 'L' : 'RGB'} ${image.width} ${image.height} ${createHash('sha256').update(data).digest('hex')}`, `${name}: Pillow`);
      const back = await decode(png);
      assert.deepEqual([back.width, back.height, back.channels], [image.width, image.height, channels], `${name}: libvips`);
      assert.ok(back.data.equals(data), `${name}: libvips reads the same pixels`);
      assert.deepEqual(chunks(png).map((c) => c.type), ['IHDR', 'IDAT', 'IEND'], `${name}: no other chunks`);
    }
  });

  it('filters each row as libpng\'s adaptive filtering does, and deflates at the zlib level asked', async () => {
    for (const [name, image] of images) {
      const idat = chunks(await writePng(pngRowsOf(image), 2)).find((c) => c.type === 'IDAT')!.data;
      const rows = zlib.inflateSync(idat);
      const rowBytes = image.width * (image.channels === 4 ? 3 : image.channels) + 1;
      const filters = Array.from({ length: image.height }, (_, y) => rows[y * rowBytes]);
      assert.deepEqual(filters, expectedFilters(image), name);
      assert.ok(new Set(filters).size >= 3, `${name}: several filters in use (${[...new Set(filters)]})`);
    }
    // The zlib header's FLEVEL: 0 for levels 0-1, 1 for 2-5, 2 for 6, 3 for 7-9 (RFC 1950).
    for (const [level, flevel] of [[0, 0], [2, 1], [6, 2], [9, 3]]) {
      const idat = chunks(await writePng(pngRowsOf(images[1][1]), level)).find((c) => c.type === 'IDAT')!.data;
      assert.equal(idat[1] >> 6, flevel, `level ${level}`);
    }
  });

  it('is smaller than libvips\' PNG of a photograph at the same zlib level with adaptive filters', async () => {
    const { data, info } = await sharp(photo('rocket.jpg')).resize(512, 384, { fit: 'inside' }).raw().toBuffer({ resolveWithObject: true });
    const image = { data, width: info.width, height: info.height, channels: 3 as const };
    for (const level of [2, 6]) {
      const ours = await writePng(pngRowsOf(image), level);
      const libvips = await sharp(data, { raw: info }).png({ compressionLevel: level, adaptiveFiltering: true }).toBuffer();
      assert.ok(ours.length < libvips.length, `level ${level}: ${ours.length} bytes against libvips' ${libvips.length}`);
    }
  });

  it('deflates a photograph\'s rows with run-length matches only, and a drawing\'s with zlib\'s default: the smaller of the two', async () => {
    for (const [name, input, smaller] of [['photograph', photo('rocket.jpg'), 'runs'], ['drawing', drawing, 'default']] as const) {
      const { data, info } = await sharp(input).removeAlpha().resize(512, 512, { fit: 'inside' }).raw().toBuffer({ resolveWithObject: true });
      const image = { data, width: info.width, height: info.height, channels: info.channels };
      const idat = chunks(await writePng(pngRowsOf(image), 2)).find((c) => c.type === 'IDAT')!.data;
      // The two streams, made here by zlib from the rows the PNG holds.
      const rows = zlib.inflateSync(idat);
      const sizes = { runs: zlib.deflateSync(rows, { level: 2, strategy: zlib.constants.Z_RLE }).length, default: zlib.deflateSync(rows, { level: 2 }).length };
      assert.ok(sizes[smaller] < Math.min(sizes.runs, sizes.default) * 1.01 && sizes[smaller] < Math.max(sizes.runs, sizes.default), `${name}: ${JSON.stringify(sizes)}`);
      assert.equal(idat.length, sizes[smaller], name);
    }
  });

  it('leaves grey with alpha, and images over 2 MP (which libvips\' encoder can stop at a deadline), to libvips', () => {
    const image = (width: number, height: number, channels: 1 | 2 | 3 | 4) => ({ data: Buffer.alloc(0), width, height, channels });
    assert.deepEqual([image(1000, 1000, 3), image(2000, 1000, 1), image(2000, 1001, 3), image(50, 50, 2)].map(pngWriterTakes), [true, true, false, false]);
  });

  it('writes a pixel lane\'s PNG at the pipeline\'s effort, or zlib level 2 by default', async () => {
    const jpeg = await sharp(photo('coffee.png')).resize(500, 375, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();
    const viaLibvips = await decode(await sharp(jpeg).resize(256, 256, { fit: 'inside' }).png().toBuffer());
    for (const [output, level] of [['png', 2], ['png:effort=0', 0], ['png:effort=9', 9]] as const) {
      const result = await processImage(jpeg, pipeline(`resize:256:256,output:${output}`));
      assert.equal(result.stats.path, 'jpeg-turbo');
      assert.ok(result.kind === 'image' && result.format === 'png');
      const idat = chunks(result.data).find((c) => c.type === 'IDAT')!.data;
      const rows = zlib.inflateSync(idat);
      if (level === 0) assert.ok(idat.length > rows.length && idat[1] >> 6 === 0, 'stored, not deflated');
      else {
        // zlib's own stream of the same rows at that level, with one of the two strategies.
        const streams = [zlib.constants.Z_DEFAULT_STRATEGY, zlib.constants.Z_RLE].map((strategy) => zlib.deflateSync(rows, { level, strategy }));
        assert.ok(streams.some((stream) => stream.equals(idat)), output);
      }
      const got = await decode(result.data);
      assert.deepEqual([got.width, got.height, got.channels], [viaLibvips.width, viaLibvips.height, 3]);
    }
  });
});
