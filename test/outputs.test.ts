import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { BIN, cli, photo, tempDir } from './helpers.js';

const RESIZE = ['-p', 'resize:100,output:jpeg'];

describe('where an output goes', () => {
  it('a symbolic link that leads to the input is refused, for one image and for a folder given through a link to it; the input is untouched', async (t) => {
    const dir = tempDir(t);
    const input = join(dir, 'in.jpg');
    copyFileSync(photo('rocket.jpg'), input);
    const before = readFileSync(input);
    symlinkSync(input, join(dir, 'link.jpg'));
    const one = await cli(['process', input, '-o', join(dir, 'link.jpg'), ...RESIZE]);
    assert.deepEqual([one.status, one.stderr], [2, 'imgfleet: refusing to write the output over its input\n']);
    // The batch's outputs keep their inputs' names, in a folder that is the input folder under another name.
    const again = join(tempDir(t), 'again');
    symlinkSync(dir, again);
    const batch = await cli(['run', input, '-o', again, ...RESIZE]);
    assert.equal(batch.status, 1, batch.stderr);
    assert.match(batch.stdout + batch.stderr, /✗ .*in\.jpg: refusing to write the output over its input/);
    assert.ok(readFileSync(input).equals(before));
  });

  it('a symbolic link to another file is followed: that file is replaced, the link stays', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'old.jpg'), 'an older result');
    symlinkSync(join(dir, 'old.jpg'), join(dir, 'latest.jpg'));
    const run = await cli(['process', photo('rocket.jpg'), '-o', join(dir, 'latest.jpg'), ...RESIZE]);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(readlinkSync(join(dir, 'latest.jpg')), join(dir, 'old.jpg'));
    assert.equal((await sharp(join(dir, 'old.jpg')).metadata()).width, 100);
    assert.deepEqual(readdirSync(dir).sort(), ['latest.jpg', 'old.jpg']);
  });

  it('a named pipe (or a link to standard output) is written straight to and stays what it is; the summary then goes to stderr', async (t) => {
    const dir = tempDir(t);
    const pipe = join(dir, 'out.fifo');
    execFileSync('mkfifo', [pipe]);
    const reader = spawn('cat', [pipe]);
    const chunks: Buffer[] = [];
    reader.stdout.on('data', (d: Buffer) => chunks.push(d));
    const ended = new Promise((resolve) => reader.on('close', resolve));
    const run = await cli(['process', photo('rocket.jpg'), '-o', pipe, ...RESIZE]);
    await ended;
    assert.equal(run.status, 0, run.stderr);
    assert.ok(lstatSync(pipe).isFIFO());
    assert.equal((await sharp(Buffer.concat(chunks)).metadata()).width, 100);

    // As /dev/stdout is, in a folder of the test's own; standard output a pipe, as a shell makes it.
    const stdout = join(dir, 'stdout');
    symlinkSync('/proc/self/fd/1', stdout);
    const child = spawnSync('sh', ['-c', '"$0" "$@" | cat', process.execPath, BIN, 'process', photo('rocket.jpg'), '-o', stdout, ...RESIZE], { env: { ...process.env, CI: 'true' } });
    assert.equal(child.status, 0, String(child.stderr));
    const { width, format } = await sharp(child.stdout).metadata();
    assert.deepEqual([width, format], [100, 'jpeg']);
    assert.match(String(child.stderr), /^wrote .*stdout \(100×\d+ jpeg/);
    assert.ok(lstatSync(stdout).isSymbolicLink());
  });

  it('a folder in the way, or a file where a folder should be, is refused in one line, nothing left behind', async (t) => {
    const dir = tempDir(t);
    mkdirSync(join(dir, 'taken'));
    writeFileSync(join(dir, 'plain'), 'a file');
    const folder = await cli(['process', photo('rocket.jpg'), '-o', join(dir, 'taken'), ...RESIZE]);
    assert.deepEqual([folder.status, folder.stderr], [2, `imgfleet: output is a folder: ${join(dir, 'taken')} (name a file)\n`]);
    const under = await cli(['process', photo('rocket.jpg'), '-o', join(dir, 'plain', 'x.jpg'), ...RESIZE]);
    assert.deepEqual([under.status, under.stderr], [2, `imgfleet: cannot write ${join(dir, 'plain', 'x.jpg')}: a file is in the way of its folder\n`]);
    assert.deepEqual(readdirSync(dir).sort(), ['plain', 'taken']);
    assert.deepEqual(readdirSync(join(dir, 'taken')), []);
    assert.ok(statSync(join(dir, 'plain')).isFile());
  });

  it('a batch refuses, before any work, an output folder that is a file and a report over an input or in a folder\'s place', async (t) => {
    const dir = tempDir(t);
    const input = join(dir, 'in');
    mkdirSync(input);
    copyFileSync(photo('rocket.jpg'), join(input, 'rocket.jpg'));
    const before = readFileSync(join(input, 'rocket.jpg'));
    writeFileSync(join(dir, 'plain'), 'a file');
    const intoFile = await cli(['run', input, '-o', join(dir, 'plain'), ...RESIZE]);
    assert.deepEqual([intoFile.status, intoFile.stderr], [2, `imgfleet: output folder ${join(dir, 'plain')} is a file: name a folder\n`]);
    const overInput = await cli(['run', input, '-o', join(dir, 'out'), ...RESIZE, '--report', join(input, 'rocket.jpg')]);
    assert.deepEqual([overInput.status, overInput.stderr], [2, `imgfleet: --report ${join(input, 'rocket.jpg')}: refusing to write the report over input ${join(input, 'rocket.jpg')}\n`]);
    assert.ok(readFileSync(join(input, 'rocket.jpg')).equals(before));
    const intoFolder = await cli(['run', input, '-o', join(dir, 'out'), ...RESIZE, '--report', input]);
    assert.deepEqual([intoFolder.status, intoFolder.stderr], [2, `imgfleet: --report ${input}: a folder; name a file\n`]);
    assert.deepEqual(readdirSync(dir).sort(), ['in', 'plain']);
  });

  it('histogram refuses, before any work, a chart over an input (a PNG in its own folder) and a name two inputs would share', async (t) => {
    const dir = tempDir(t);
    await sharp(photo('rocket.jpg')).resize(64).png().toFile(join(dir, 'rocket.png'));
    copyFileSync(photo('rocket.jpg'), join(dir, 'other.jpg'));
    const before = readFileSync(join(dir, 'rocket.png'));
    const own = await cli(['histogram', dir, '-o', dir, '--no-chart']);
    assert.deepEqual([own.status, own.stderr], [2, `imgfleet: refusing to write a histogram over input ${join(dir, 'rocket.png')}: choose another output folder\n`]);
    assert.ok(readFileSync(join(dir, 'rocket.png')).equals(before));
    assert.deepEqual(readdirSync(dir).sort(), ['other.jpg', 'rocket.png']);
    copyFileSync(photo('rocket.jpg'), join(dir, 'rocket.jpg'));
    const out = join(tempDir(t), 'charts');
    const shared = await cli(['histogram', dir, '-o', out, '--no-chart']);
    assert.deepEqual([shared.status, shared.stderr], [2, `imgfleet: ${join(dir, 'rocket.jpg')} and ${join(dir, 'rocket.png')} would both write ${join(out, 'rocket')}.json: histogram them into different folders\n`]);
    // Apart, each gets its own.
    const apart = await cli(['histogram', join(dir, 'rocket.jpg'), join(dir, 'other.jpg'), '-o', out, '--no-chart']);
    assert.equal(apart.status, 0, apart.stderr);
    assert.deepEqual(readdirSync(out).sort(), ['other.json', 'other.png', 'rocket.json', 'rocket.png']);
  });

  it('process refuses a file name whose extension says another format than the pipeline writes, or one imgfleet cannot write', async (t) => {
    const dir = tempDir(t);
    const other = await cli(['process', photo('rocket.jpg'), '-o', join(dir, 'a.png'), '-p', 'resize:64,output:jpeg']);
    assert.deepEqual([other.status, other.stderr], [2, `imgfleet: -o ${join(dir, 'a.png')} names png but the pipeline writes jpeg: name the file .jpg, or leave out output:jpeg\n`]);
    const heic = await cli(['process', photo('rocket.jpg'), '-o', join(dir, 'a.heic'), '-p', 'resize:64']);
    assert.deepEqual([heic.status, heic.stderr], [2, `imgfleet: -o ${join(dir, 'a.heic')}: imgfleet does not write HEIC; name a .jpg, .png, .webp, .avif, .tif, .gif, .jxl file\n`]);
    assert.deepEqual(readdirSync(dir), []);
    // An extension that names no image type takes the format the pipeline makes.
    const plain = await cli(['process', photo('rocket.jpg'), '-o', join(dir, 'a.bin'), '-p', 'resize:64,output:webp']);
    assert.equal(plain.status, 0, plain.stderr);
    assert.equal((await sharp(join(dir, 'a.bin')).metadata()).format, 'webp');
  });

  it('an output whose name is as long as the file system allows (255 bytes) is written, and no temporary file is left', async (t) => {
    const dir = tempDir(t);
    const input = join(dir, 'in');
    mkdirSync(input);
    const stem = 'a'.repeat(250);
    copyFileSync(photo('rocket.jpg'), join(input, `${stem}.jpg`));
    const run = await cli(['run', input, '-o', join(dir, 'out'), '-p', 'resize:64,output:webp']);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(readdirSync(join(dir, 'out'), { withFileTypes: true }).map((entry) => entry.name), [`${stem}.webp`]);
    assert.equal((await sharp(join(dir, 'out', `${stem}.webp`)).metadata()).width, 64);
  });
});
