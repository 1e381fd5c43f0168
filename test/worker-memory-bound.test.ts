/**
 * A worker's memory stays within the README's formula of its settings: a worker at small limits
 * (2 threads, 4 MP in and out), fed the largest images it allows through the step that holds
 * most of their pixels (Canny edges), peaks below R₀ + T × (W + k × P) + J × ((T + 1) × (F + O) + T × F).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { startWorker, submit, testPrefix } from './cluster-helpers.js';
import { photo, tempDir } from './helpers.js';

const MiB = 1024 * 1024;
const SIDE = 2000;
/** The formula's constants, as the README gives them. */
const JOBS_AT_ONCE = 2;
const THREADS = 2;
/** Images of one job in hand at once. */
const IMAGES_OF_A_JOB = THREADS + 1;
const THREAD_BYTES = 25 * MiB;
const BYTES_PER_PIXEL = 32;
const PIXELS = SIDE * SIDE;

function statusKiB(pid: number, field: string): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

describe('a worker\'s worst-case memory', { timeout: 240_000 }, () => {
  it('stays under R₀ + T × (W + k × P) + J × ((T + 1) × (F + O) + T × F) with images at its pixel limit', async (t) => {
    const dir = tempDir(t);
    const input = join(dir, 'in');
    mkdirSync(input);
    // The largest files: noise PNGs at the limit (about 12 MB, a job each); and photos at the
    // limit as JPEGs (a few MB, several to a job).
    for (let i = 0; i < 4; i++) {
      await sharp(randomBytes(PIXELS * 3), { raw: { width: SIDE, height: SIDE, channels: 3 } }).png({ compressionLevel: 1 }).toFile(join(input, `noise-${i}.png`));
    }
    const base = await sharp(photo('Garden.jpg')).resize(SIDE, SIDE, { fit: 'fill' }).raw().toBuffer();
    for (let i = 0; i < 8; i++) {
      const pixels = Buffer.from(base);
      pixels[0] = i;
      await sharp(pixels, { raw: { width: SIDE, height: SIDE, channels: 3 } }).jpeg({ quality: 95 }).toFile(join(input, `photo-${i}.jpg`));
    }
    const largestFile = Math.max(...readdirSync(input).map((f) => statSync(join(input, f)).size));

    const prefix = testPrefix(t);
    const worker = await startWorker(prefix, 'bounded', ['--concurrency', String(THREADS), '--max-megapixels', '4', '--max-output-megapixels', '4']);
    t.after(async () => { worker.child.kill('SIGKILL'); await worker.exited; });
    // R₀: the worker idle once its pool has started (one tiny image through it).
    const tiny = join(dir, 'tiny');
    mkdirSync(tiny);
    await sharp(photo('Garden.jpg')).resize(16, 16).png().toFile(join(tiny, 'tiny.png'));
    assert.equal((await submit(prefix, tiny, join(dir, 'tiny-out'), 'edges:canny,output:png')).status, 0);
    await new Promise((r) => setTimeout(r, 1000));
    const idle = statusKiB(worker.child.pid!, 'VmRSS') * 1024;

    const out = join(dir, 'out');
    const result = await submit(prefix, input, out, 'edges:canny,output:png');
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual([result.report.summary.done, result.report.summary.failed], [12, 0]);
    for (const file of readdirSync(out)) {
      const meta = await sharp(join(out, file)).metadata();
      assert.deepEqual([meta.width, meta.height], [SIDE, SIDE], `${file} was processed whole`);
    }

    const peak = statusKiB(worker.child.pid!, 'VmHWM') * 1024;
    const resultBytes = PIXELS * 4;
    const bound = idle + THREADS * (THREAD_BYTES + BYTES_PER_PIXEL * PIXELS) + JOBS_AT_ONCE * (IMAGES_OF_A_JOB * (largestFile + resultBytes) + THREADS * largestFile);
    t.diagnostic(`worker peak ${(peak / MiB).toFixed(0)} MiB, idle ${(idle / MiB).toFixed(0)} MiB, formula ${(bound / MiB).toFixed(0)} MiB`);
    assert.ok(peak < bound, `peak ${(peak / MiB).toFixed(0)} MiB is over the formula's ${(bound / MiB).toFixed(0)} MiB`);
    // The images' pixels were held here: the peak is above idle by at least one frame of them.
    assert.ok(peak > idle + PIXELS * 4, `peak ${(peak / MiB).toFixed(0)} MiB, idle ${(idle / MiB).toFixed(0)} MiB: the images were decoded in this worker`);
  });
});
