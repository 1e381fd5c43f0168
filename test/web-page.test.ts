import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { unzipSync } from 'fflate';
import { chromium, type Browser } from 'playwright-core';
import sharp from 'sharp';
import { LocalEngine } from '../src/engine/local/local-engine.js';
import { buildServer } from '../src/server/app.js';
import { photo, ROOT } from './helpers.js';
import { startCluster, testServer } from './server-helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PHOTOS = ['Aqua.jpg', 'Garden.jpg', 'chelsea.png'].map(photo);

describe('the web page in a real browser', { skip: !existsSync(CHROMIUM) && `no browser at ${CHROMIUM} (apt-get install chromium)` }, () => {
  let browser: Browser;
  let url: string;
  let close: () => Promise<void>;

  before(async () => {
    const engine = new LocalEngine({ threads: 2 });
    const app = await buildServer({ engine });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    close = async () => { await app.close(); await engine.close(); };
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });

  after(async () => {
    await browser?.close();
    await close?.();
  });

  it('uploads three photos, runs a two-step pipeline, shows results and downloads a zip of three images', async (t) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    t.after(() => context.close());
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(url);

    await page.setInputFiles('#files', PHOTOS);
    await assert.doesNotReject(page.getByRole('list', { name: 'Chosen photos' }).getByRole('listitem').nth(2).waitFor());

    await page.getByLabel('Add an operation').selectOption('resize');
    await page.getByRole('button', { name: 'Add step' }).click();
    await page.getByLabel('resize width', { exact: true }).fill('240');
    await page.getByLabel('resize width', { exact: true }).press('Tab');
    await page.getByLabel('Add an operation').selectOption('grayscale');
    await page.getByRole('button', { name: 'Add step' }).click();
    // The page asks the server to check the pipeline and shows it in the compact syntax.
    await page.waitForFunction(() => (document.getElementById('compact') as HTMLInputElement).value === 'resize:width=240,grayscale');

    await page.getByRole('button', { name: 'Run pipeline' }).click();
    await page.locator('.result[data-status="done"]').nth(2).waitFor({ timeout: 30_000 });
    const widths = await page.locator('.result img[alt$="after"]').evaluateAll(async (images) => Promise.all(
      (images as HTMLImageElement[]).map(async (img) => { await img.decode(); return img.naturalWidth; })));
    assert.deepEqual(widths, [240, 240, 240]);
    await assert.doesNotReject(page.getByText(/Done: 3 of 3 photos/).waitFor());

    const shots = process.env.UPDATE_SCREENSHOTS ? join(ROOT, 'docs', 'images') : join(ROOT, 'out');
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, 'web-page.png'), fullPage: true, animations: 'disabled' });

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download all (zip)' }).click()]);
    const entries = unzipSync(readFileSync(await download.path()));
    assert.deepEqual(Object.keys(entries).sort(), ['Aqua.jpg', 'Garden.jpg', 'chelsea.png']);
    for (const [name, bytes] of Object.entries(entries)) {
      const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
      assert.equal(info.width, 240, name);
      // Grey: every pixel's channels are equal (sharp reads a grey JPEG as one channel).
      for (let i = 0; info.channels >= 3 && i < data.length; i += info.channels) {
        if (data[i] !== data[i + 1] || data[i] !== data[i + 2]) assert.fail(`${name} is not grey at byte ${i}`);
      }
    }
    assert.deepEqual(pageErrors, []);
  });

  it('explains a bad file in plain words while the others complete', async (t) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    t.after(() => context.close());
    const page = await context.newPage();
    await page.goto(url);
    await page.setInputFiles('#files', [photo('Aqua.jpg'), join(ROOT, '..', 'shared', 'corpus', 'bad', 'truncated.jpg')]);
    await page.getByLabel('Compact syntax (editable)').fill('flip,output:png');
    await page.getByLabel('Compact syntax (editable)').press('Enter');
    await page.locator('li.step[data-op="flip"]').waitFor();
    await page.getByRole('button', { name: 'Run pipeline' }).click();
    await assert.doesNotReject(page.getByText(/Done: 1 of 2 photos, 1 failed/).waitFor({ timeout: 30_000 }));
    await assert.doesNotReject(page.getByText('This image is damaged or cut short, so it could not be read.').waitFor());
  });

  it('draws a map of the tiles while a large image runs as tiles', async (t) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    t.after(() => context.close());
    const page = await context.newPage();
    await page.goto(url);
    await page.setInputFiles('#files', [join(ROOT, '..', 'shared', 'corpus', 'large', 'volna-5120x2880.jpg')]);
    // Small tiles with a wide halo, so that they take long enough to watch.
    await page.getByLabel('Compact syntax (editable)').fill('blur:25,resize:800');
    await page.getByLabel('Compact syntax (editable)').press('Enter');
    await page.locator('li.step[data-op="blur"]').waitFor();
    await page.getByLabel('Tile size in pixels').fill('256');
    await page.getByRole('button', { name: 'Run pipeline' }).click();
    await page.locator('canvas.tilemap').waitFor({ state: 'attached', timeout: 30_000 });
    await page.locator('.result[data-status="done"]').waitFor({ timeout: 60_000 });
    // 5120×2880 in tiles of 256: 20 × 12 = 240 tiles.
    assert.match(await page.locator('.result .info').textContent() ?? '', /· 240 tiles/);
    const width = await page.locator('.result img[alt$="after"]').evaluate(async (img: HTMLImageElement) => { await img.decode(); return img.naturalWidth; });
    assert.equal(width, 800);
  });

  it('shows the live workers of a cluster, with their load', async (t) => {
    const cluster = await startCluster();
    t.after(() => cluster.stop());
    const clustered = await testServer('cluster', cluster);
    t.after(() => clustered.close());
    const address = await clustered.app.listen({ host: '127.0.0.1', port: 0 });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    t.after(() => context.close());
    const page = await context.newPage();
    await page.goto(address);
    const row = page.getByRole('row').filter({ hasText: 'api-worker' });
    await assert.doesNotReject(row.waitFor({ timeout: 10_000 }));
    assert.match(await row.textContent() ?? '', /api-worker.*0\/2/);
    assert.equal(await page.getByRole('link', { name: 'Queues' }).getAttribute('href'), '/admin/queues');
  });

  it('fits a phone screen without sideways scrolling', async (t) => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    t.after(() => context.close());
    const page = await context.newPage();
    await page.goto(url);
    await page.getByLabel('Add an operation').selectOption('watermark');
    await page.getByRole('button', { name: 'Add step' }).click();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the phone`);
  });
});
