/**
 * W1 output quality, side by side: PSNR and luma SSIM of each variant's 512×512 JPEGs against
 * a Lanczos reference made by Pillow from the same sources.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import sharp from 'sharp';

export interface QualityRow {
  variant: string;
  psnrDb: number;
  ssim: number;
}

interface Pixels {
  data: Buffer;
  width: number;
  height: number;
}

const rgb = async (path: string): Promise<Pixels> => {
  const { data, info } = await sharp(path, { ignoreIcc: true }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
};

export async function w1Quality(corpus: string, work: string, count: number, variants: { name: string; run: (input: string, output: string) => Promise<void> }[]): Promise<QualityRow[]> {
  const input = join(work, 'quality-in');
  const reference = join(work, 'quality-ref');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(input, { recursive: true });
  for (const name of readdirSync(corpus).sort().slice(0, count)) copyFileSync(join(corpus, name), join(input, name));
  execFileSync('/usr/bin/python3', [new URL('../../bench/baselines/pil_reference.py', import.meta.url).pathname, input, reference]);
  const rows: QualityRow[] = [];
  for (const variant of variants) {
    const output = join(work, `quality-${rows.length}`);
    mkdirSync(output, { recursive: true });
    await variant.run(input, output);
    let squared = 0;
    let samples = 0;
    let ssimSum = 0;
    const files = readdirSync(output).sort();
    for (const file of files) {
      const got = await rgb(join(output, file));
      const want = await rgb(join(reference, `${basename(file, extname(file))}.png`));
      for (let i = 0; i < got.data.length; i++) squared += (got.data[i] - want.data[i]) ** 2;
      samples += got.data.length;
      ssimSum += lumaSsim(got, want);
    }
    rows.push({ variant: variant.name, psnrDb: 10 * Math.log10((255 * 255) / (squared / samples)), ssim: ssimSum / files.length });
  }
  rmSync(work, { recursive: true, force: true });
  return rows;
}

/** Mean SSIM of BT.601 luma over 8×8 windows with a stride of 4. */
function lumaSsim(a: Pixels, b: Pixels): number {
  const luma = (p: Pixels) => {
    const out = new Float64Array(p.width * p.height);
    for (let i = 0; i < out.length; i++) out[i] = 0.299 * p.data[3 * i] + 0.587 * p.data[3 * i + 1] + 0.114 * p.data[3 * i + 2];
    return out;
  };
  const x = luma(a);
  const y = luma(b);
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  let total = 0;
  let windows = 0;
  for (let wy = 0; wy + 8 <= a.height; wy += 4) {
    for (let wx = 0; wx + 8 <= a.width; wx += 4) {
      let mx = 0, my = 0;
      for (let j = 0; j < 8; j++) for (let i = 0; i < 8; i++) { mx += x[(wy + j) * a.width + wx + i]; my += y[(wy + j) * a.width + wx + i]; }
      mx /= 64; my /= 64;
      let vx = 0, vy = 0, cov = 0;
      for (let j = 0; j < 8; j++) for (let i = 0; i < 8; i++) {
        const dx = x[(wy + j) * a.width + wx + i] - mx;
        const dy = y[(wy + j) * a.width + wx + i] - my;
        vx += dx * dx; vy += dy * dy; cov += dx * dy;
      }
      vx /= 63; vy /= 63; cov /= 63;
      total += ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      windows++;
    }
  }
  return total / windows;
}
