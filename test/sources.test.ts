import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isPrivateAddress } from '../src/sources/address-policy.js';
import { HttpOriginStore } from '../src/sources/http-origin.js';
import { LocalFolderStore } from '../src/sources/local-folder.js';
import { tempDir } from './helpers.js';
import { startOrigin } from './origin-helpers.js';

/** Rejects with an ImgfleetError of this code; `detail` is matched against what the log gets (the message and its cause). */
async function refused(promise: Promise<unknown>, code: string, detail?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: { code?: string; message: string; cause?: { message?: string } }) => {
    assert.equal(error.code, code, error.message);
    if (detail) assert.match(`${error.message} ${error.cause?.message ?? ''}`, detail);
    return true;
  });
}

describe('image sources', () => {
  it('a local folder: files inside it, and nothing else', async (t) => {
    const dir = tempDir(t);
    const root = join(dir, 'sources');
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(root, 'sub', 'a.png'), 'inside');
    writeFileSync(join(dir, 'secret.txt'), 'outside');
    writeFileSync(join(root, '.env'), 'hidden');
    symlinkSync(join(dir, 'secret.txt'), join(root, 'link.txt'));
    const store = new LocalFolderStore(root, 1024);
    assert.equal((await store.read('sub/a.png')).toString(), 'inside');
    for (const key of ['../secret.txt', 'sub/../../secret.txt', '/etc/passwd', '.env', 'sub//a.png', 'link.txt', 'sub', 'missing.png', 'a\\..\\b']) {
      await refused(store.read(key), 'NOT_FOUND');
    }
    await refused(new LocalFolderStore(root, 3).read('sub/a.png'), 'FILE_TOO_LARGE');
  });

  it('a local file’s digest is its content’s, and changes when the file does', async (t) => {
    const root = tempDir(t);
    writeFileSync(join(root, 'a.png'), 'first');
    const store = new LocalFolderStore(root, 1024);
    const first = await store.open('a.png');
    assert.equal(first.digest, createHash('sha256').update('first').digest('hex'));
    assert.equal((await store.open('a.png')).digest, first.digest, 'remembered');
    writeFileSync(join(root, 'a.png'), 'second, longer');
    const second = await store.open('a.png');
    assert.equal(second.digest, createHash('sha256').update('second, longer').digest('hex'));
    assert.equal((await second.bytes()).toString(), 'second, longer');
  });

  it('address policy: loopback, private, link-local, unique-local, unspecified and mapped addresses are private', () => {
    for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1']) {
      assert.ok(isPrivateAddress(address), address);
    }
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700::1111']) assert.ok(!isPrivateAddress(address), address);
  });

  describe('an HTTP origin', () => {
    let origin: Awaited<ReturnType<typeof startOrigin>>;
    before(async () => { origin = await startOrigin(); });
    after(() => origin.server.close());
    const store = (options: Partial<ConstructorParameters<typeof HttpOriginStore>[0]> = {}) =>
      new HttpOriginStore({ baseUrl: origin.url, maxBytes: 1024, timeoutMs: 5000, ...options });

    it('refuses a loopback origin by default, by address and by name', async () => {
      await refused(store().read('a.png'), 'FORBIDDEN', /127\.0\.0\.1.*refused/);
      await refused(store({ baseUrl: `http://localhost:${origin.port}/` }).read('a.png'), 'FORBIDDEN', /localhost resolves to/);
    });

    it('fetches from it when private origins are allowed, following redirects within it', async () => {
      assert.equal((await store({ allowPrivate: true }).read('a.png')).toString(), 'png bytes');
      assert.equal((await store({ allowPrivate: ['127.0.0.1'] }).read('to-self')).toString(), 'png bytes');
      await refused(store({ allowPrivate: true }).read('missing.png'), 'NOT_FOUND');
    });

    it('checks every redirect again: its host against the allow-list, its address against the policy', async () => {
      await refused(store({ allowPrivate: true }).read('to-elsewhere'), 'FORBIDDEN', /example\.com, which is not among/);
      // 127.0.0.2 is allowed as a host, but its address is not among the allowed private ones.
      await refused(store({ allowPrivate: ['127.0.0.1'], allowHosts: [`127.0.0.2:${origin.port}`] }).read('to-127.0.0.2'), 'FORBIDDEN', /127\.0\.0\.2.*refused/);
    });

    it('limits the size and the time, and refuses keys that leave the origin', async () => {
      await refused(store({ allowPrivate: true }).read('big'), 'FILE_TOO_LARGE');
      await refused(store({ allowPrivate: true, timeoutMs: 300 }).read('hang'), 'TIMEOUT');
      await refused(store({ allowPrivate: true }).read('../a.png'), 'NOT_FOUND');
      assert.throws(() => store({ allowPrivate: ['not-an-address'] }), /expected an address or a subnet/);
    });
  });
});
