import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { parseCompact } from '../src/pipeline/compact.js';
import { expandPresets, loadPresets } from '../src/pipeline/presets.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import { signedPath } from '../src/server/signing.js';
import { LocalFolderStore } from '../src/sources/local-folder.js';
import { readPresets } from '../src/cli/usage.js';
import { cli, photo, tempDir } from './helpers.js';
import { multipart, testServer } from './server-helpers.js';

const PRESETS = {
  thumb: 'resize:64:48:fit=cover,output:webp:70',
  card: { steps: [{ op: 'resize', width: 100 }, { op: 'grayscale' }], output: { format: 'png' } },
};

function presetsFile(dir: string, presets: object = PRESETS): string {
  const path = join(dir, 'presets.json');
  writeFileSync(path, JSON.stringify(presets));
  return path;
}

describe('presets', () => {
  it('expand in place, in the compact syntax and in JSON, with the pipeline\'s own output over the preset\'s', async (t) => {
    const presets = await readPresets(presetsFile(tempDir(t)));
    const expanded = (text: string) => validatePipeline(expandPresets(parseCompact(text), presets)).spec;
    assert.deepEqual(expanded('preset:thumb'), validatePipeline(parseCompact('resize:64:48:fit=cover,output:webp:70')).spec);
    assert.deepEqual(expanded('negate,preset:thumb,blur:1,output:quality=90').steps.map((s) => s.op), ['negate', 'resize', 'blur']);
    assert.deepEqual(expanded('preset:thumb,output:quality=90').output, { format: 'webp', quality: 90 });
    const json = validatePipeline(expandPresets({ steps: [{ preset: 'card' }, { op: 'negate' }] }, presets)).spec;
    assert.deepEqual(json.steps.map((s) => s.op), ['resize', 'grayscale', 'negate']);
    assert.throws(() => expandPresets(parseCompact('preset:nope'), presets), { code: 'BAD_PIPELINE', message: 'steps[0].preset: unknown preset "nope" (known: thumb, card)' });
    assert.throws(() => expandPresets({ steps: [{ preset: 'thumb', width: 3 }] }, presets), /takes only its name/);
    assert.throws(() => validatePipeline(parseCompact('preset:thumb')), /preset "thumb" is not known here/);
  });

  it('a presets file with a mistake is refused at once, naming the preset and the field', async (t) => {
    const dir = tempDir(t);
    const check = (spec: unknown) => validatePipeline(spec).spec;
    await assert.rejects(loadPresets(presetsFile(dir, { bad: 'blur:sigma=0' }), check), /presets\.json: bad: steps\[0\]\.sigma: expected a number from 0\.3 to 100, got 0/);
    await assert.rejects(loadPresets(presetsFile(dir, { a: 'negate', b: 'preset:a' }), check), /b: a preset cannot use another preset/);
    await assert.rejects(loadPresets(presetsFile(dir, { 'no spaces': 'negate' }), check), /"no spaces" is not a preset name/);
    await assert.rejects(loadPresets(join(dir, 'missing.json'), check), /missing\.json: not found/);
  });

  it('imgfleet run --presets: a preset with a further step gives the same files as its steps written out', async (t) => {
    const dir = tempDir(t);
    const input = join(dir, 'in');
    mkdirSync(input);
    copyFileSync(photo('rocket.jpg'), join(input, 'rocket.jpg'));
    const file = presetsFile(dir);
    const viaPreset = await cli(['run', input, '-o', join(dir, 'a'), '-p', 'preset:card,negate', '--presets', file]);
    assert.equal(viaPreset.status, 0, viaPreset.stderr);
    const written = await cli(['run', input, '-o', join(dir, 'b'), '-p', 'resize:100,grayscale,negate,output:png']);
    assert.equal(written.status, 0, written.stderr);
    const [a, b] = await Promise.all(['a', 'b'].map((d) => sharp(join(dir, d, 'rocket.png')).raw().toBuffer({ resolveWithObject: true })));
    assert.equal(a.info.width, 100);
    assert.equal((await sharp(join(dir, 'a', 'rocket.png')).metadata()).channels, 1, 'grey stays grey');
    assert.ok(a.data.equals(b.data));
    const fromEnv = await cli(['run', input, '-o', join(dir, 'c'), '-p', 'preset:thumb'], { IMGFLEET_PRESETS: file });
    assert.equal(fromEnv.status, 0, fromEnv.stderr);
    assert.deepEqual(readdirSync(join(dir, 'c')), ['rocket.webp']);
    const unknown = await cli(['run', input, '-o', join(dir, 'd'), '-p', 'preset:thumb']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown preset "thumb" \(this has no presets: give --presets\)/);
  });

  it('image URLs take presets; with --presets-only nothing else, and POST /v1/process takes {"preset": NAME}', async (t) => {
    const dir = tempDir(t);
    mkdirSync(join(dir, 'src'));
    copyFileSync(photo('rocket.jpg'), join(dir, 'src', 'rocket.jpg'));
    const presets = await readPresets(presetsFile(dir));
    const keys = ['a-signing-key-of-at-least-32-bytes-long'];
    const server = await testServer('local', undefined, { sources: new LocalFolderStore(join(dir, 'src'), 10 << 20), signingKeys: keys, presets, presetsOnly: true });
    t.after(() => server.close());
    const get = (path: string) => server.app.inject({ method: 'GET', url: signedPath(path, keys) });
    const thumb = await get('/preset:thumb/rocket.jpg');
    assert.equal(thumb.statusCode, 200, thumb.body);
    assert.equal(thumb.headers['content-type'], 'image/webp');
    const meta = await sharp(thumb.rawPayload).metadata();
    assert.deepEqual([meta.width, meta.height], [64, 48]);
    const other = await get('/resize:64/rocket.jpg');
    assert.equal(other.statusCode, 403);
    assert.match(other.json().error.message, /only presets here, like preset:thumb \(known: thumb, card\)/);
    assert.equal((await get('/preset:thumb,negate/rocket.jpg')).statusCode, 403, 'a preset and more is not a preset');

    const form = await multipart({ pipeline: JSON.stringify({ steps: [{ preset: 'card' }] }), file: { name: 'r.jpg', bytes: await sharp(photo('rocket.jpg')).toBuffer() } });
    const posted = await server.app.inject({ method: 'POST', url: '/v1/process', ...form });
    assert.equal(posted.statusCode, 200, posted.body);
    assert.equal(posted.headers['content-type'], 'image/png');
    const listed = (await server.app.inject({ method: 'GET', url: '/v1/presets' })).json();
    assert.deepEqual(listed.presets.map((p: { name: string }) => p.name), ['thumb', 'card']);
    assert.equal(listed.presetsOnly, true);
  });
});
