import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { collectInputs, filesUnder } from '../src/io/collect-inputs.js';
import { tempDir } from './helpers.js';

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

  it('gives a batch its images and names the other files as skipped; a pipe named like an image is left out', async (t) => {
    const root = untidyFolder(tempDir(t));
    // Reading a pipe would wait for a writer that never comes.
    execFileSync('mkfifo', [join(root, 'pipe.jpg')]);
    const { files, skipped } = await collectInputs([root]);
    assert.deepEqual(files.map((f) => f.relative), ['a/b/z.webp', 'a/y.PNG', 'link/o.jpg', 'lx.jpg', 'other/o.jpg', 'x.jpg']);
    assert.deepEqual(files.map((f) => f.path), files.map((f) => join(root, f.relative)));
    assert.deepEqual(skipped, [{ path: join(root, 'notes.txt'), reason: 'not an image type imgfleet reads (.txt)' }]);
  });

  it('still takes a pattern (--glob) and a glob as the argument', async (t) => {
    const root = untidyFolder(tempDir(t), { backLink: false });
    assert.deepEqual((await collectInputs([root], '*.jpg')).files.map((f) => f.relative), ['link/o.jpg', 'lx.jpg', 'other/o.jpg', 'x.jpg']);
    assert.deepEqual((await collectInputs([`${root}/a/**/*.webp`])).files.map((f) => f.relative), ['b/z.webp']);
  });
});
