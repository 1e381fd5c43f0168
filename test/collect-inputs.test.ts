import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LocalEngine } from '../src/engine/local/local-engine.js';
import { collectInputs, filesUnder } from '../src/io/collect-inputs.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import { BIN, PHOTOS, tempDir } from './helpers.js';

/** A folder with what people's folders hold: nested folders, hidden files, links of every kind, a file that is not an image. */
function untidyFolder(dir: string, { backLink = true } = {}): string {
  const root = join(dir, 'photos');
  for (const folder of ['a/b', '.thumbnails', 'other']) mkdirSync(join(root, folder), { recursive: true });
  for (const file of ['x.jpg', '.hidden.jpg', 'a/y.PNG', 'a/b/z.webp', '.thumbnails/q.jpg', 'notes.txt', 'other/o.jpg']) {
    writeFileSync(join(root, file), 'bytes');
  }
  symlinkSync(join(root, 'other'), join(root, 'link'));
  symlinkSync(join(root, 'x.jpg'), join(root, 'lx.jpg'));
  if (backLink) symlinkSync(root, join(root, 'a', 'back-to-top'));
  symlinkSync(join(dir, 'nowhere.jpg'), join(root, 'broken.jpg'));
  symlinkSync(join(root, 'circle.jpg'), join(root, 'circle.jpg'));
  return root;
}

describe('the files of a folder', () => {
  it('lists every file under it as a glob of everything does: hidden ones and broken or circular links left out, sorted', (t) => {
    const root = untidyFolder(tempDir(t));
    const { files, unreadable } = filesUnder(root);
    assert.deepEqual(files, ['a/b/z.webp', 'a/y.PNG', 'link/o.jpg', 'lx.jpg', 'notes.txt', 'other/o.jpg', 'x.jpg']);
    assert.deepEqual(unreadable, []);
  });

  it('gives a batch its images and names the other files as skipped; a pipe named like an image is never read, and named too', async (t) => {
    const root = untidyFolder(tempDir(t));
    // Reading a pipe would wait for a writer that never comes.
    execFileSync('mkfifo', [join(root, 'pipe.jpg')]);
    const { files, skipped } = await collectInputs([root]);
    assert.deepEqual(files.map((f) => f.relative), ['a/b/z.webp', 'a/y.PNG', 'link/o.jpg', 'lx.jpg', 'other/o.jpg', 'x.jpg']);
    assert.deepEqual(files.map((f) => f.path), files.map((f) => join(root, f.relative)));
    assert.deepEqual(skipped, [
      { path: join(root, 'pipe.jpg'), reason: 'a named pipe, not a file' },
      { path: join(root, 'notes.txt'), reason: 'not an image type imgfleet reads (.txt)' },
    ]);
  });

  it('still takes a pattern (--glob) and a glob as the argument', async (t) => {
    const root = untidyFolder(tempDir(t), { backLink: false });
    assert.deepEqual((await collectInputs([root], '*.jpg')).files.map((f) => f.relative), ['link/o.jpg', 'lx.jpg', 'other/o.jpg', 'x.jpg']);
    assert.deepEqual((await collectInputs([`${root}/a/**/*.webp`])).files.map((f) => f.relative), ['b/z.webp']);
  });

  it('names a folder inside it that cannot be read as skipped, and refuses a top folder that cannot be read in one line', (t) => {
    const dir = tempDir(t);
    const root = join(dir, 'photos');
    mkdirSync(join(root, 'locked'), { recursive: true });
    writeFileSync(join(root, 'x.jpg'), 'bytes');
    writeFileSync(join(root, 'locked', 'y.jpg'), 'bytes');
    chmodSync(dir, 0o755);
    chmodSync(root, 0o755);
    chmodSync(join(root, 'locked'), 0o000);
    // Permissions bind only a user other than root: as root, the check runs as nobody, which
    // needs to reach the project (a clone inside a private folder, such as /root, it cannot).
    const as = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    if (spawnSync(process.execPath, ['-e', `require('node:fs').accessSync(${JSON.stringify(BIN)})`], as).status !== 0) {
      t.skip(`the user nobody cannot reach ${BIN}`);
      return;
    }
    const listing = spawnSync(process.execPath, ['--input-type=module', '-e', `
      import { filesUnder } from ${JSON.stringify(new URL('../src/io/collect-inputs.js', import.meta.url).href)};
      console.log(JSON.stringify(filesUnder(${JSON.stringify(root)})));`], { ...as, encoding: 'utf8' });
    assert.equal(listing.status, 0, listing.stderr);
    assert.deepEqual(JSON.parse(listing.stdout), {
      files: ['x.jpg'], unreadable: [{ path: join(root, 'locked'), reason: 'folder not readable (EACCES)' }],
    });
    const run = spawnSync(process.execPath, [BIN, 'run', join(root, 'locked'), '-o', join(dir, 'out'), '-p', 'resize:64'],
      { ...as, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    assert.equal(run.status, 2, run.stderr);
    assert.equal(run.stderr, `imgfleet: input folder not readable (EACCES): ${join(root, 'locked')}\n`);
    // A batch of the folder above it goes on, and its summary names the folder it left out and why.
    const batch = spawnSync(process.execPath, [BIN, 'run', root, '-o', join(dir, 'out'), '-p', 'resize:64'],
      { ...as, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    assert.equal(batch.status, 1, batch.stderr);
    assert.match(batch.stdout + batch.stderr, /, 1 failed, 1 skipped \(why below\)\n/);
    assert.match(batch.stdout + batch.stderr, new RegExp(`– skipped ${join(root, 'locked')}: folder not readable \\(EACCES\\)`));
    // Beside a file that is not an image, the summary counts that one apart.
    writeFileSync(join(root, 'notes.txt'), 'text');
    const mixed = spawnSync(process.execPath, [BIN, 'run', root, '-o', join(dir, 'out'), '-p', 'resize:64'],
      { ...as, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    assert.match(mixed.stdout + mixed.stderr, /, 1 failed, 2 skipped \(1 not an image; why below\)\n/);
    assert.match(mixed.stdout + mixed.stderr, new RegExp(`– skipped ${join(root, 'notes.txt')}: not an image type imgfleet reads \\(\\.txt\\)`));
  });
});

describe('inputs that are not files', () => {
  /** A named pipe nobody writes to: opened the usual way, its reader would wait for ever. */
  function namedPipe(dir: string, name: string): string {
    const path = join(dir, name);
    execFileSync('mkfifo', [path]);
    return path;
  }
  const imgfleet = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, CI: 'true' } });

  it('a named pipe or a device as the input, or as a watermark\'s image, is refused in one line at once', (t) => {
    const dir = tempDir(t);
    const pipe = namedPipe(dir, 'stream.jpg');
    const photo = join(PHOTOS, 'rocket.jpg');
    const cases: [string[], string][] = [
      [['process', pipe, '-o', join(dir, 'a.jpg'), '-p', 'resize:64'], `imgfleet: input is a named pipe, not a file: ${pipe} (save what it streams to a file first)\n`],
      [['run', pipe, '-o', join(dir, 'out'), '-p', 'resize:64'], `imgfleet: input is a named pipe, not a file: ${pipe} (save what it streams to a file first)\n`],
      [['process', '/dev/null', '-o', join(dir, 'b.jpg'), '-p', 'resize:64'], 'imgfleet: input is a device, not a file: /dev/null\n'],
      [['process', photo, '-o', join(dir, 'c.jpg'), '-p', `watermark:image=${pipe}`], `imgfleet: watermark image ${pipe}: a named pipe, not a file\n`],
    ];
    for (const [args, stderr] of cases) {
      const run = imgfleet(args);
      assert.equal(run.error, undefined, `${args.join(' ')}: ${run.error}`);
      assert.deepEqual([run.status, run.stderr], [2, stderr], args.join(' '));
    }
  });

  it('a batch of a folder skips a named pipe in it, names it and why, and does the rest', (t) => {
    const dir = tempDir(t);
    const input = join(dir, 'in');
    mkdirSync(input);
    copyFileSync(join(PHOTOS, 'rocket.jpg'), join(input, 'rocket.jpg'));
    const pipe = namedPipe(input, 'stream.jpg');
    const run = imgfleet(['run', input, '-o', join(dir, 'out'), '-p', 'resize:64']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout + run.stderr, /processed 1\/1 images .*, 0 failed, 1 skipped \(why below\)\n/);
    assert.match(run.stdout + run.stderr, new RegExp(`– skipped ${pipe}: a named pipe, not a file`));
    assert.deepEqual(readdirSync(join(dir, 'out')), ['rocket.jpg']);
  });

  it('an engine given a named pipe fails that image at once, on the main thread and on the pool alike', async (t) => {
    const dir = tempDir(t);
    const pipe = namedPipe(dir, 'stream.png');
    const pipeline = validatePipeline({ steps: [{ op: 'grayscale' }], output: { format: 'png' } }).spec;
    for (const engine of [new LocalEngine({ threads: 1, batchImages: 1 }), new LocalEngine({ threads: 1 })]) {
      t.after(() => engine.close());
      const outcome = await engine.run({ source: { kind: 'file', path: pipe }, sink: { kind: 'file', path: join(dir, 'out.png') }, pipeline, priority: 'batch' });
      assert.deepEqual(!outcome.ok && outcome.error, { code: 'BAD_USAGE', message: `input is a named pipe, not a file: ${pipe} (save what it streams to a file first)` });
    }
  });
});
