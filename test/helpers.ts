import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import sharp from 'sharp';
import type { RawImage, Channels } from '../src/image/frame.js';
import { processImage, type ProcessResult } from '../src/pipeline/process.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import { parsePipelineText } from '../src/pipeline/load.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CORPUS = join(ROOT, '..', 'shared', 'corpus');
export const PHOTOS = join(CORPUS, 'photos');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
export const BIN = join(ROOT, 'bin', 'imgfleet.js');

export const photo = (name: string) => join(PHOTOS, name);

/** Decodes with sharp alone (no imgfleet code) to 8-bit pixels as stored: grey stays grey, no ICC conversion. */
export async function decode(input: string | Buffer): Promise<RawImage> {
  const { channels, hasAlpha } = await sharp(input).metadata();
  const grey = channels! - (hasAlpha ? 1 : 0) === 1;
  const image = sharp(input, { ignoreIcc: true });
  // Grey + alpha is read as RGBA and packed, since sharp's grey raw output drops alpha.
  const { data, info } = await (grey && !hasAlpha ? image.toColourspace('b-w') : image).raw().toBuffer({ resolveWithObject: true });
  if (grey && hasAlpha) {
    const packed = Buffer.alloc(info.width * info.height * 2);
    for (let i = 0; i < info.width * info.height; i++) { packed[2 * i] = data[4 * i]; packed[2 * i + 1] = data[4 * i + 3]; }
    return { data: packed, width: info.width, height: info.height, channels: 2 };
  }
  return { data, width: info.width, height: info.height, channels: info.channels as Channels };
}

/** Runs a pipeline (JSON or compact text) on a file or bytes through the processor. */
export async function runPipeline(pipeline: string | object, input: string | Buffer): Promise<ProcessResult> {
  const spec = typeof pipeline === 'string' ? parsePipelineText(pipeline) : pipeline;
  const bytes = typeof input === 'string' ? await readFile(input) : input;
  return processImage(bytes, validatePipeline(spec));
}

/** Runs a pipeline and decodes its image output. */
export async function runToPixels(pipeline: string | object, input: string | Buffer): Promise<RawImage> {
  const result = await runPipeline(pipeline, input);
  if (result.kind !== 'image') throw new Error('expected an image result');
  return decode(result.data);
}

export function maxDifference(a: RawImage, b: RawImage): number {
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) {
    throw new Error(`shapes differ: ${a.width}×${a.height}×${a.channels} vs ${b.width}×${b.height}×${b.channels}`);
  }
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i] - b.data[i]));
  return max;
}

/** Peak signal-to-noise ratio between two images of the same shape, in dB. */
export function psnr(a: RawImage, b: RawImage): number {
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) {
    throw new Error(`shapes differ: ${a.width}×${a.height}×${a.channels} vs ${b.width}×${b.height}×${b.channels}`);
  }
  let squared = 0;
  for (let i = 0; i < a.data.length; i++) squared += (a.data[i] - b.data[i]) ** 2;
  return 10 * Math.log10((255 * 255) / (squared / a.data.length));
}

/** A raw image made from a function of (x, y, channel). */
export function synthetic(width: number, height: number, channels: Channels, value: (x: number, y: number, c: number) => number): RawImage {
  const data = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) {
    data[(y * width + x) * channels + c] = value(x, y, c);
  }
  return { data, width, height, channels };
}

export function toPng(image: RawImage): Promise<Buffer> {
  const png = sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
  return (image.channels <= 2 ? png.toColourspace('b-w') : png).png().toBuffer();
}

export function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'imgfleet-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A cover as Pillow makes it (ImageOps.fit with Lanczos: the centred box of the target's shape,
 * cut with fractions of a pixel), decoded: the reference the pixel lanes follow.
 */
/** The same JPEG without its APP2 segments (an ICC profile): the same coded pixels. */
export function withoutIccSegments(jpeg: Buffer): Buffer {
  const segments: Buffer[] = [jpeg.subarray(0, 2)];
  let pos = 2;
  while (jpeg[pos + 1] !== 0xda) {
    const end = pos + 2 + jpeg.readUInt16BE(pos + 2);
    if (jpeg[pos + 1] !== 0xe2) segments.push(jpeg.subarray(pos, end));
    pos = end;
  }
  return Buffer.concat([...segments, jpeg.subarray(pos)]);
}

export async function pillowCover(input: Buffer, width: number, height: number): Promise<RawImage> {
  const dir = mkdtempSync(join(tmpdir(), 'imgfleet-pillow-'));
  try {
    const [source, output] = [join(dir, 'source'), join(dir, 'cover.png')];
    writeFileSync(source, input);
    execFileSync('/usr/bin/python3', ['-c', `import sys
from PIL import Image, ImageOps
with Image.open(sys.argv[1]) as im:
    ImageOps.fit(ImageOps.exif_transpose(im), (int(sys.argv[2]), int(sys.argv[3])), Image.Resampling.LANCZOS).save(sys.argv[4])
`, source, String(width), String(height), output]);
    return await decode(output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `imgfleet process` of the file `input` through `text` once in each environment of `runs`, each
 * checked to have taken the lane named beside it; the decoded outputs, in the same order.
 */
export async function outputsByLane(input: string, text: string, runs: readonly (readonly [NodeJS.ProcessEnv, string])[]): Promise<RawImage[]> {
  const outputs: RawImage[] = [];
  for (const [env, lane] of runs) {
    const output = join(dirname(input), `${lane}.png`);
    const run = await cli(['process', input, '-p', text, '-o', output, '--json'], env);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).stats.path, lane, text);
    outputs.push(await decode(output));
  }
  return outputs;
}

/** Runs the real `imgfleet` binary as a user would. */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, CI: 'true', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (status) => resolvePromise({ status, stdout, stderr }));
  });
}

/** A PNG whose header claims width × height but which holds almost nothing. */
export function pngClaiming(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => { let c = 0xffffffff; for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0); body.copy(out, 4); out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4); ihdr[8] = 8; ihdr[9] = 2;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.alloc(100))), chunk('IEND', Buffer.alloc(0))]);
}
