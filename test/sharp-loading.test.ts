import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { waitFor } from './cluster-helpers.js';
import { BIN, cli, photo, ROOT, tempDir } from './helpers.js';

/**
 * Preloaded into the process and each of its threads: says on stderr when one loads sharp's
 * native module (libvips), however sharp itself was imported.
 */
const REPORT_SHARP = `
const { threadId } = require('node:worker_threads');
const dlopen = process.dlopen;
process.dlopen = function (module, filename, ...rest) {
  if (/sharp/.test(filename)) process.stderr.write('sharp loaded in thread ' + threadId + '\\n');
  return dlopen.call(this, module, filename, ...rest);
};
`;

describe('which threads load sharp (libvips), and when', () => {
  it('a batch of small JPEGs resized to JPEG loads it nowhere; the same batch to PNG loads it', async (t) => {
    const dir = tempDir(t);
    const input = join(dir, 'in');
    mkdirSync(input);
    // Plain small JPEGs, colour and grey, as the libjpeg-turbo lane takes them.
    for (let i = 0; i < 6; i++) {
      const image = sharp(photo('rocket.jpg')).resize(480 - 8 * i, 320).withIccProfile('srgb', { attach: false });
      await (i % 2 ? image.grayscale() : image).jpeg({ quality: 90 }).toFile(join(input, `${i}.jpg`));
    }
    const hook = join(dir, 'report-sharp.cjs');
    writeFileSync(hook, REPORT_SHARP);
    const env = { NODE_OPTIONS: `--require ${hook}` };

    const jpeg = await cli(['run', input, '-o', join(dir, 'jpeg'), '-p', 'resize:200:200,output:jpeg:80'], env);
    assert.equal(jpeg.status, 0, jpeg.stderr);
    assert.equal(readdirSync(join(dir, 'jpeg')).length, 6);
    assert.doesNotMatch(jpeg.stderr, /sharp loaded/);

    const png = await cli(['run', input, '-o', join(dir, 'png'), '-p', 'resize:200:200,output:png'], env);
    assert.equal(png.status, 0, png.stderr);
    assert.equal(readdirSync(join(dir, 'png')).length, 6);
    assert.match(png.stderr, /sharp loaded in thread \d/);
  });

  it('a server loads it in its main thread as it starts, before any request', async (t) => {
    const dir = tempDir(t);
    const hook = join(dir, 'report-sharp.cjs');
    writeFileSync(hook, REPORT_SHARP);
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--no-auth', '--cache-dir', join(dir, 'cache')], {
      detached: true, env: { ...process.env, CI: 'true', NODE_OPTIONS: `--require ${hook}` },
    });
    t.after(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    await waitFor(() => /serving on http/.test(output), 15_000, 'the server to start');
    // No request has come: only the server's own start can have loaded it (its two pipes may arrive in either order).
    await waitFor(() => /sharp loaded in thread 0/.test(output), 5_000, 'sharp loaded by the server\'s start');
  });

  it('the settings a pool gives libvips before sharp is loaded hold once it is', () => {
    // A fresh process each: in this one, sharp is loaded already.
    const settingsAfterLoad = (withPool: boolean) => JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', `
      const { LocalEngine } = await import(${JSON.stringify(join(ROOT, 'dist', 'src', 'engine', 'local', 'local-engine.js'))});
      const { loadSharp } = await import(${JSON.stringify(join(ROOT, 'dist', 'src', 'image', 'sharp-module.js'))});
      const engine = ${withPool} ? new LocalEngine({ threads: 2 }) : undefined;
      const sharp = loadSharp();
      console.log(JSON.stringify({ concurrency: sharp.concurrency(), cache: sharp.cache() }));
      await engine?.close();
    `], { encoding: 'utf8' })) as { concurrency: number; cache: { memory: { max: number }; files: { max: number }; items: { max: number } } };
    const plain = settingsAfterLoad(false);
    assert.ok(plain.cache.memory.max > 0 && plain.cache.items.max > 0, JSON.stringify(plain));
    const pooled = settingsAfterLoad(true);
    // One libvips thread per image (a large one gets the idle cores when it starts), and no cache.
    assert.equal(pooled.concurrency, 1);
    assert.deepEqual([pooled.cache.memory.max, pooled.cache.files.max, pooled.cache.items.max], [0, 0, 0]);
  });
});
