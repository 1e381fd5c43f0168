import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { unzipSync } from 'fflate';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { launchBrowser, noBrowser, openPage, startPageServer } from './browser-helpers.js';
import { CORPUS, photo, ROOT, tempDir } from './helpers.js';
import { startCluster, testServer } from './server-helpers.js';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const SHOTS = process.env.UPDATE_SCREENSHOTS ? join(ROOT, 'docs', 'images') : join(ROOT, 'out');

describe('the web page in a real browser', { skip: noBrowser }, () => {
  let browser: Browser;
  let url: string;
  let close: () => Promise<void>;

  before(async () => {
    ({ url, close } = await startPageServer());
    browser = await launchBrowser();
    mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await close?.();
  });

  /** A fresh page; page errors fail the test at its end. */
  async function open(t: { after: (fn: () => Promise<void>) => void }, options: Parameters<Browser['newContext']>[0] = { viewport: DESKTOP }): Promise<{ page: Page; context: BrowserContext }> {
    const { page, context } = await openPage(browser, t, url, { acceptDownloads: true, ...options });
    await page.locator('#op-picker option').first().waitFor({ state: 'attached' });
    return { page, context };
  }

  it('with a token: asks for it, trades it for a session cookie scripts cannot read, and works', async (t) => {
    const guarded = await startPageServer({ token: 'the-page-token' }, 1);
    t.after(guarded.close);
    const { page, context } = await openPage(browser, t, guarded.url, { viewport: DESKTOP });
    await page.getByLabel('This server needs a token').fill('the-page-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#op-picker option').first().waitFor({ state: 'attached' });
    const session = (await context.cookies()).find((c) => c.name === 'imgfleet_session');
    assert.ok(session, 'the server set its session cookie');
    assert.deepEqual([session.httpOnly, session.secure, session.sameSite], [true, true, 'Strict']);
    assert.ok(!session.value.includes('the-page-token'));
    assert.equal(await page.evaluate(() => document.cookie.includes('imgfleet')), false, 'scripts never see it');
  });

  it('desktop: upload with progress, steps with a live preview, results in view with their savings, a 1:1 compare of real pixels; axe-core finds nothing in any state', async (t) => {
    const { page, context } = await open(t);
    await expectAccessible(page, 'empty', 24);

    // A slow uplink, so that the upload takes long enough to report its progress.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await page.setInputFiles('#files', ['Aqua.jpg', 'Garden.jpg', 'chelsea.png'].map(photo));
    await page.getByRole('list', { name: 'Chosen photos' }).getByRole('listitem').nth(2).waitFor();
    await page.getByRole('list', { name: 'Chosen photos' }).getByText('2560×1600 · 196 KB').waitFor();

    await page.getByLabel('Add a step').selectOption({ label: 'Resize' });
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    // Focus went to the new step's first setting; a resize starts without enlarging.
    assert.equal(await page.evaluate(() => document.activeElement?.closest('.param')?.querySelector('label')?.textContent), 'Width');
    assert.equal(await page.getByLabel('Allow enlarging').isChecked(), false);
    await page.keyboard.press('Control+A');
    await page.keyboard.type('1200');
    await page.getByLabel('Add a step').selectOption({ label: 'Greyscale' });
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByLabel('Format').selectOption({ label: 'PNG' });
    await waitForValue(page, '#compact', 'resize:width=1200:enlarge=false,grayscale,output:format=png');
    assert.match(page.url(), /\?pipeline=resize:width=1200:enlarge=false,grayscale,output:format=png$/);
    // The live preview of the first photo, made by the server with these steps.
    await page.waitForFunction(() => {
      const img = document.getElementById('preview-after') as HTMLImageElement;
      return img.complete && img.naturalWidth === 1200 && !img.classList.contains('stale');
    }, undefined, { timeout: 20_000 });
    assert.match(await page.locator('#preview-after-caption').textContent() ?? '', /^Result · 1200×750 · [\d.]+ (KB|MB) \(/);
    await expectAccessible(page, 'photos and steps chosen', 24);

    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 300 * 1024 });
    await recordProgress(page);
    await page.getByRole('button', { name: 'Run on 3 photos' }).click();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'cancel', 'focus moves to Cancel, not to the page');
    await page.getByText(/^Uploading 3 photos: \d+%/).waitFor();
    await expectAccessible(page, 'running (uploading)', 24);
    await page.locator('.result[data-status="done"]').nth(2).waitFor({ timeout: 60_000 });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await expectSummary(page, /^Done: 3 of 3 photos in [\d.]+ s\. 689 KB → [\d.]+ (KB|MB) \([−+]\d+%\)\.$/);

    const uploads = (await progressSeen(page)).filter((p) => p.text.startsWith('Uploading 3 photos:')).map((p) => p.value);
    assert.ok(new Set(uploads.filter((v) => v > 0 && v < 100)).size >= 2, `upload progress between 0 and 100%: ${uploads.join(', ')}`);
    await expectInView(page, page.locator('.result').first(), 'the first result after Run');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Download all (zip)', 'focus lands on the download');
    assert.match(await page.locator('.result').first().textContent() ?? '', /Aqua\.jpgDone2560×1600 → 1200×750 PNG · 196 KB → [\d.]+ KB [−+]\d+%/);
    assert.match(await page.locator('#expiry').textContent() ?? '', /^The results stay on the server until \d\d:\d\d.* \(in about 60 minutes\)/);
    await expectAccessible(page, 'done', 24);

    // The compare view: smooth when fitted, real pixels at 1:1, zoom around the pointer, drag to pan.
    const compare = page.getByRole('button', { name: 'Compare Aqua.jpg', exact: true });
    await compare.click();
    const stage = page.locator('#stage');
    await page.waitForFunction(() => document.getElementById('stage')!.dataset.scale !== undefined && (document.getElementById('label-before')!.textContent ?? '').includes('2560×1600'));
    assert.equal(await stage.getAttribute('data-sampling'), 'smooth');
    assert.match(await page.locator('#label-after').textContent() ?? '', /^Result · 1200×750 · [\d.]+ KB \([−+]\d+%\)$/);
    await page.locator('#charts svg').nth(1).waitFor();
    assert.match(await page.locator('#charts svg').first().getAttribute('aria-label') ?? '', /^Original: mean level red \d+, green \d+, blue \d+; /);
    assert.equal(await page.locator('#histogram-table tbody tr').count(), 8);
    assert.deepEqual(await page.locator('#histogram-table thead th').allTextContents(), ['Levels', 'Original: red', 'Original: green', 'Original: blue', 'Result: grey']);
    await expectAccessible(page, 'compare dialog open', 24, '#viewer');
    await page.screenshot({ path: join(SHOTS, 'web-page-compare.png'), animations: 'disabled' });

    await page.getByRole('button', { name: '1:1 real pixels' }).click();
    assert.equal(await stage.getAttribute('data-scale'), '1');
    assert.equal(await stage.getAttribute('data-sampling'), 'pixels');
    const href = await page.locator('.result').first().getByRole('link', { name: /^Download / }).getAttribute('href');
    const expected = await sharp(Buffer.from(await (await fetch(new URL(href!, url))).arrayBuffer())).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([expected.info.width, expected.info.height], [1200, 750]);
    const channels = expected.info.channels;
    const view = await viewOf(page);
    // A block right of the split line, so it shows the result.
    const at = { x: Math.floor(view.canvasWidth * 0.7), y: Math.floor(view.canvasHeight * 0.4) };
    const shown = await page.evaluate(({ x, y }) => Array.from((document.getElementById('compare-canvas') as HTMLCanvasElement).getContext('2d')!.getImageData(x, y, 8, 8).data), at);
    for (let dy = 0; dy < 8; dy++) {
      for (let dx = 0; dx < 8; dx++) {
        const ix = at.x + dx - view.originX;
        const iy = at.y + dy - view.originY;
        const o = (iy * 1200 + ix) * channels;
        const rgb = channels >= 3 ? [expected.data[o], expected.data[o + 1], expected.data[o + 2]] : [expected.data[o], expected.data[o], expected.data[o]];
        const i = (dy * 8 + dx) * 4;
        assert.deepEqual(shown.slice(i, i + 4), [...rgb, 255], `canvas (${at.x + dx}, ${at.y + dy}) is output pixel (${ix}, ${iy})`);
      }
    }

    // Wheel zoom keeps the picture's point under the pointer where it is.
    const box = (await stage.boundingBox())!;
    const pointer = { x: box.x + box.width * 0.3, y: box.y + box.height * 0.6 };
    await page.mouse.move(pointer.x, pointer.y);
    const under = (v: typeof view) => ({ x: (pointer.x - box.x - v.originX) / v.scale, y: (pointer.y - box.y - v.originY) / v.scale });
    const before = under(view);
    await page.mouse.wheel(0, -400);
    await page.waitForFunction((scale) => Number(document.getElementById('stage')!.dataset.scale) > scale, view.scale);
    const zoomed = await viewOf(page);
    assert.ok(Math.abs(under(zoomed).x - before.x) < 1 && Math.abs(under(zoomed).y - before.y) < 1, 'the point under the pointer stays put');
    await page.mouse.down();
    await page.mouse.move(pointer.x - 80, pointer.y - 40, { steps: 4 });
    await page.mouse.up();
    const panned = await viewOf(page);
    assert.deepEqual([Math.round(panned.originX - zoomed.originX), Math.round(panned.originY - zoomed.originY)], [-80, -40]);
    await page.getByLabel('Original', { exact: true }).focus();
    await page.keyboard.press('ArrowLeft');
    assert.equal(await page.locator('#split').getAttribute('aria-valuetext'), '49% original, 51% result');
    await page.keyboard.press('Escape');
    assert.equal(await focusedName(page), 'Compare Aqua.jpg', 'focus returns to what opened the dialog');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download all (zip)' }).click()]);
    const entries = unzipSync(readFileSync(await download.path()));
    assert.deepEqual(Object.keys(entries).sort(), ['Aqua.png', 'Garden.png', 'chelsea.png']);
    for (const [name, bytes] of Object.entries(entries)) {
      const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
      assert.equal(info.width, name === 'chelsea.png' ? 451 : 1200, name);
      // Grey: every pixel's channels are equal.
      for (let i = 0; info.channels >= 3 && i < data.length; i += info.channels) {
        if (data[i] !== data[i + 1] || data[i] !== data[i + 2]) assert.fail(`${name} is not grey at byte ${i}`);
      }
    }

    // A second run replaces the first; the README's picture is of this one.
    await page.getByRole('button', { name: 'For the web' }).click();
    await waitForValue(page, '#compact', 'resize:width=1600:height=1600:enlarge=false,sharpen:amount=0.5,output:format=webp:quality=80');
    await page.getByText('Ready: 2 steps.').waitFor();
    await page.getByRole('button', { name: 'Run on 3 photos' }).click();
    await expectSummary(page, /^Done: 3 of 3 photos in [\d.]+ s\. 689 KB → [\d.]+ KB \(−\d+%\)\.$/);
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('#results img, #preview-after')].every((img) => img.complete && img.naturalWidth > 0 && !img.classList.contains('stale')));
    await page.screenshot({ path: join(SHOTS, 'web-page.png'), fullPage: true, animations: 'disabled' });
  });

  it('phone: 44 px targets, no sideways scrolling, results in view after Run, a pinch zooms, the dialog keeps its header; axe-core finds nothing', async (t) => {
    const { page, context } = await open(t, { viewport: PHONE, isMobile: true, hasTouch: true });
    await expectAccessible(page, 'empty (phone)', 44);
    await page.setInputFiles('#files', [photo('Garden.jpg'), photo('chelsea.png')]);
    await page.getByRole('button', { name: 'Thumbnails' }).tap();
    await waitForValue(page, '#compact', 'resize:width=512:height=512:fit=cover:enlarge=false,output:format=jpeg:quality=80');
    await page.getByText('Ready: 1 step.').waitFor();
    await expectAccessible(page, 'photos and steps chosen (phone)', 44);
    await page.getByRole('button', { name: 'Run on 2 photos' }).tap();
    await page.locator('.result[data-status="done"]').nth(1).waitFor({ timeout: 30_000 });
    await expectSummary(page, /^Done: 2 of 2 photos/);
    await expectInView(page, page.locator('.result').first(), 'the first result after Run on a phone');
    assert.match(await page.locator('.result').nth(1).textContent() ?? '', /451×300 → 451×300 JPEG/, 'a small photo is not enlarged');
    await expectAccessible(page, 'done (phone)', 44);
    await page.screenshot({ path: join(SHOTS, 'web-page-phone.png'), animations: 'disabled' });

    await page.getByRole('button', { name: 'Compare Garden.jpg', exact: true }).tap();
    await page.waitForFunction(() => (document.getElementById('label-before')!.textContent ?? '').includes('2560×1600'));
    await page.locator('#charts svg').nth(1).waitFor();
    await expectAccessible(page, 'compare dialog open (phone)', 44, '#viewer');
    // Two fingers moving apart zoom in around their middle.
    const box = (await page.locator('#stage').boundingBox())!;
    const view = await viewOf(page);
    const mid = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    const cdp = await context.newCDPSession(page);
    const touch = (type: 'touchStart' | 'touchMove' | 'touchEnd', spread: number) => cdp.send('Input.dispatchTouchEvent', {
      type, touchPoints: type === 'touchEnd' ? [] : [{ x: mid.x - spread, y: mid.y, id: 1 }, { x: mid.x + spread, y: mid.y, id: 2 }],
    });
    await touch('touchStart', 20);
    for (const spread of [30, 45, 60]) await touch('touchMove', spread);
    await touch('touchEnd', 0);
    const pinched = await viewOf(page);
    assert.ok(pinched.scale > view.scale * 2.5, `pinched from ${view.scale} to ${pinched.scale}`);
    const centre = (v: typeof view) => (mid.x - box.x - v.originX) / v.scale;
    assert.ok(Math.abs(centre(pinched) - centre(view)) < 2, 'the point between the fingers stays put');
    // The header with Close stays at the top of the dialog however far it scrolls.
    await page.evaluate(() => { const d = document.getElementById('viewer')!; d.scrollTop = d.scrollHeight; });
    const dialogTop = (await page.locator('#viewer').boundingBox())!.y;
    const head = (await page.locator('#viewer .dialog-head').boundingBox())!;
    assert.ok(Math.abs(head.y - dialogTop) <= 1, `the dialog header is at ${head.y}, the dialog at ${dialogTop}`);
    await expectInView(page, page.getByRole('button', { name: 'Close' }), 'Close after scrolling the dialog');
    await page.getByRole('button', { name: 'Close' }).tap();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the phone`);
  });

  it('keyboard only: upload, steps, run and download, with focus always visible and kept after each edit', async (t) => {
    const { page } = await open(t);
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), tabTo(page, 'Choose photos').then(() => page.keyboard.press('Enter'))]);
    await chooser.setFiles([photo('Aqua.jpg'), photo('chelsea.png')]);
    await page.getByRole('list', { name: 'Chosen photos' }).getByRole('listitem').nth(1).waitFor();

    await tabTo(page, 'Add a step');
    await tabTo(page, 'Add');
    await page.keyboard.press('Enter');
    assert.equal(await focusedName(page), 'Width');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('320');
    await tabTo(page, 'Add a step');
    await page.keyboard.type('Grey');
    await tabTo(page, 'Add');
    await page.keyboard.press('Enter');
    assert.equal(await focusedName(page), 'Amount');
    await tabTo(page, 'Add a step');
    await page.keyboard.type('Blur');
    await tabTo(page, 'Add');
    await page.keyboard.press('Enter');
    await waitForValue(page, '#compact', 'resize:width=320:enlarge=false,grayscale,blur');

    // Moving and removing steps keep the focus on the step list, never on the page.
    await shiftTabTo(page, 'Move step 3, Blur, up');
    await page.keyboard.press('Enter');
    assert.equal(await focusedName(page), 'Move step 2, Blur, up');
    await page.keyboard.press('Enter');
    assert.equal(await focusedName(page), 'Move step 1, Blur, down', 'at the top, the other move button takes the focus');
    await waitForValue(page, '#compact', 'blur,resize:width=320:enlarge=false,grayscale');
    await tabTo(page, 'Remove step 1, Blur');
    await page.keyboard.press('Enter');
    assert.equal(await focusedName(page), 'Remove step 1, Resize');
    await waitForValue(page, '#compact', 'resize:width=320:enlarge=false,grayscale');

    await tabTo(page, 'Run on 2 photos');
    await page.keyboard.press('Enter');
    // Cancel while the job runs; on a busy machine the two photos can be done before the focus is read.
    const whileRunning = await focusedName(page);
    assert.ok(['Cancel', 'Download all (zip)'].includes(whileRunning), `focus after Run: ${whileRunning}`);
    await expectSummary(page, /^Done: 2 of 2 photos/);
    assert.equal(await focusedName(page), 'Download all (zip)');
    const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    const entries = unzipSync(readFileSync(await download.path()));
    assert.deepEqual(Object.keys(entries).sort(), ['Aqua.jpg', 'chelsea.png']);
    assert.equal((await sharp(entries['Aqua.jpg']).metadata()).width, 320);
    // One result on its own, from its card.
    await tabTo(page, 'Download chelsea.png');
    const [single] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    assert.equal((await sharp(readFileSync(await single.path())).metadata()).width, 320);
  });

  it('explains problems at the field they belong to, checks tiling before any upload, sends a chosen logo, shows TIFF, and explains a bad file', async (t) => {
    const { page } = await open(t);
    // A bad setting: the field is marked, the words are beside it, and Run says why it waits.
    await page.getByLabel('Add a step').selectOption({ label: 'Sharpen' });
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByLabel('Radius (σ)').fill('50');
    await page.locator('#pipeline-status.bad').waitFor();
    const radius = page.getByLabel('Radius (σ)');
    assert.equal(await radius.getAttribute('aria-invalid'), 'true');
    assert.match(await page.locator(`#${await radius.getAttribute('id')}-error`).textContent() ?? '', /^Use a number from 0\.3 to 10; this is 50\.$/);
    assert.match(await radius.evaluate((el) => el.getAttribute('aria-describedby') ?? ''), /-error/);
    assert.equal(await page.locator('#pipeline-status').textContent(), 'One thing to fix. Step 1 (Sharpen), Radius (σ): Use a number from 0.3 to 10; this is 50.');
    await radius.fill('1');
    await page.getByText('Ready: 1 step.').waitFor();
    assert.equal(await radius.getAttribute('aria-invalid'), null);

    // Tiles asked for steps that cannot run in tiles: said at once, before any photo is sent.
    await page.getByLabel('Add a step').selectOption({ label: 'Find edges' });
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByLabel('Method').selectOption('canny');
    await page.getByLabel('Tile size (pixels)').fill('512');
    await page.locator('#tile-error:not([hidden])').waitFor();
    assert.match(await page.locator('#tile-error').textContent() ?? '', /^Cannot run on tiles: edges:canny follows weak edges .* Clear the tile size to run these steps whole\.$/);
    assert.equal(await page.locator('li.step.invalid').getAttribute('data-op'), 'edges');
    await page.getByLabel('Tile size (pixels)').fill('');
    await page.getByText('Ready: 2 steps.').waitFor();

    // A watermark with a logo chosen from the computer, a TIFF photo and a damaged one.
    const dir = tempDir(t);
    const tiff = join(dir, 'chelsea.tif');
    writeFileSync(tiff, await sharp(photo('chelsea.png')).tiff().toBuffer());
    await page.getByLabel('Steps as text').fill('resize:width=400:enlarge=false,watermark:opacity=0.8');
    await page.getByLabel('Steps as text').press('Enter');
    await page.locator('li.step[data-op="watermark"]').waitFor();
    const [logo] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Choose a logo…' }).click()]);
    await logo.setFiles(join(CORPUS, 'odd', 'logo.png'));
    await waitForValue(page, '#compact', 'resize:width=400:enlarge=false,watermark:image=logo.png:opacity=0.8');
    assert.match(await page.locator('li.step[data-op="watermark"]').textContent() ?? '', /Sent with each run: logo\.png \(176 KB\)/);
    await page.setInputFiles('#files', [photo('Aqua.jpg'), join(CORPUS, 'bad', 'truncated.jpg'), tiff]);
    // The browser cannot show a TIFF: the server made its thumbnail. The damaged file is explained at once.
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('#chosen li:nth-child(3) img');
      return img !== null && img.complete && img.naturalWidth > 0;
    });
    await page.getByRole('list', { name: 'Chosen photos' }).getByText('This image is damaged or cut short, so it could not be read. Try another copy of the file.').waitFor();
    const [created] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/v1/jobs') && r.request().method() === 'POST'), page.getByRole('button', { name: 'Run on 3 photos' }).click()]);
    const { id } = await created.json() as { id: string };
    await expectSummary(page, /^Done: 2 of 3 photos in [\d.]+ s; 1 failed/);

    // The logo went with the photos: the job's steps name the server's copy of it.
    assert.match((await (await fetch(`${url}/v1/jobs/${id}`)).json() as { pipeline: string }).pipeline, /watermark:image=upload%3A[0-9a-f]{64}:opacity=0\.8/);
    const failed = page.locator('.result[data-status="failed"]');
    assert.match(await failed.textContent() ?? '', /truncated\.jpgFailedThis image is damaged or cut short, so it could not be read\.Try another copy of the file\.Details: corrupt or truncated image/);
    assert.equal(await failed.getByRole('button').count(), 0, 'a failed card opens no viewer');
    const tiffCard = page.locator('.result', { hasText: 'chelsea.tif' });
    assert.match(await tiffCard.textContent() ?? '', /chelsea\.tifDone400×266 TIFF · /);
    const shownTiff = await tiffCard.locator('button.thumbs img').nth(1).evaluate(async (img: HTMLImageElement) => { await img.decode(); return [img.naturalWidth, new URL(img.src).pathname]; });
    assert.match(String(shownTiff[1]), /^\/v1\/jobs\/[\w-]+\/previews\/2\/output$/);
    assert.equal(shownTiff[0], 400);
    await expectAccessible(page, 'done with a failure', 24);
  });

  it('feeds the main bar from the tiles of a large image, with a map of them in words, and the writing after', async (t) => {
    const { page } = await open(t);
    await page.setInputFiles('#files', [join(CORPUS, 'large', 'volna-5120x2880.jpg')]);
    // Small tiles with a wide halo, so that they take long enough to watch.
    await page.getByLabel('Steps as text').fill('blur:25,resize:800');
    await page.getByLabel('Steps as text').press('Enter');
    await page.locator('li.step[data-op="blur"]').waitFor();
    await page.getByLabel('Tile size (pixels)').fill('256');
    await page.getByText('Ready: 2 steps.').waitFor();
    await recordProgress(page);
    await page.getByRole('button', { name: 'Run on 1 photo' }).click();
    const map = page.getByRole('img', { name: /^Tiles of volna-5120x2880\.jpg: \d+ of 240 done$/ });
    await map.waitFor({ timeout: 30_000 });
    await expectAccessible(page, 'running (tiles)', 24);
    await page.locator('.result[data-status="done"]').waitFor({ timeout: 60_000 });
    const seen = await progressSeen(page);
    const tiled = seen.filter((p) => /volna-5120x2880\.jpg: tile \d+ of 240/.test(p.text)).map((p) => p.value);
    assert.ok(new Set(tiled.filter((v) => v > 0 && v < 90)).size >= 3, `the bar moved with the tiles: ${tiled.join(', ')}`);
    assert.ok(tiled.every((v, i) => i === 0 || v >= tiled[i - 1]), 'the bar never goes back');
    assert.ok(seen.some((p) => /all tiles done, writing the result/.test(p.text)), 'the writing after the tiles is shown');
    assert.match(await page.locator('.result').textContent() ?? '', /5120×2880 → 800×450 JPEG/);
  });

  it('Cancel stops a job: the server deletes it and the photos not yet begun are not run', async (t) => {
    // One thread and a wide blur, so that most photos are still waiting when Cancel lands, however fast the machine.
    const slow = await startPageServer({}, 1);
    t.after(slow.close);
    const { page } = await openPage(browser, t, slow.url, { viewport: DESKTOP });
    await page.locator('#op-picker option').first().waitFor({ state: 'attached' });
    const photos = ['Aqua.jpg', 'Blinds.jpg', 'Dune.jpg', 'FreshFlower.jpg', 'Garden.jpg', 'GreenMeadow.jpg', 'LadyBird.jpg', 'RainDrops.jpg', 'Storm.jpg', 'TwoWings.jpg', 'Wood.jpg', 'YellowFlower.jpg'];
    await page.setInputFiles('#files', photos.map(photo));
    await page.getByLabel('Steps as text').fill('blur:80,sharpen');
    await page.getByLabel('Steps as text').press('Enter');
    await page.getByText('Ready: 2 steps.').waitFor();
    const [created] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/v1/jobs') && r.request().method() === 'POST'), page.getByRole('button', { name: 'Run on 12 photos' }).click()]);
    const { id } = await created.json() as { id: string };
    await page.locator('.result[data-status="running"]').first().waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expectSummary(page, /^Stopped\. \d+ of 12 photos had finished; the server deleted this run's files\.$/);
    assert.equal((await fetch(`${slow.url}/v1/jobs/${id}`)).status, 404, 'the job is gone from the server');
    const notRun = await page.locator('.result[data-status="stopped"]').count();
    assert.ok(notRun >= 6, `${notRun} photos were not run`);
    assert.equal(await focusedName(page), 'Run on 12 photos');
  });

  it('keeps the steps in the URL and in localStorage, readable, and the last results over a reload', async (t) => {
    const { page, context } = await open(t);
    await page.getByRole('button', { name: 'Black and white' }).click();
    await waitForValue(page, '#compact', 'grayscale,contrast:factor=1.2');
    assert.equal(new URL(page.url()).search, '?pipeline=grayscale,contrast:factor=1.2');
    const other = await context.newPage();
    await other.goto(url);
    await waitForValue(other, '#compact', 'grayscale,contrast:factor=1.2');
    await other.close();

    // A shared link: the text is shown as written, not percent-encoded.
    await page.goto(`${url}/?pipeline=${encodeURIComponent('watermark:text=© me%2C 2026:opacity=0.9')}`);
    await waitForValue(page, '#compact', 'watermark:text=© me%2C 2026:opacity=0.9');
    assert.equal(await page.getByLabel('Text', { exact: true }).inputValue(), '© me, 2026');

    await page.setInputFiles('#files', [photo('chelsea.png')]);
    await page.getByRole('button', { name: 'Run on 1 photo' }).click();
    await expectSummary(page, /^Done: 1 of 1 photo/);
    await page.reload();
    await page.locator('.result[data-status="done"]').waitFor();
    const images = await page.locator('.result button.thumbs img').evaluateAll((nodes) => Promise.all((nodes as HTMLImageElement[]).map(async (img) => { await img.decode(); return img.naturalWidth; })));
    assert.deepEqual(images, [451, 451]);
    assert.match(await page.locator('#expiry').textContent() ?? '', /^The results stay on the server until/);
    await page.getByRole('button', { name: 'Compare chelsea.png', exact: true }).click();
    await page.locator('#charts svg').nth(1).waitFor();
  });

  it('info panel: the chosen photo\'s facts, and its ThumbHash placeholder beside it in the photo\'s colours; a preset picker when the server has presets', async (t) => {
    const withPresets = await startPageServer({ presets: new Map([['thumb', { steps: [{ op: 'resize', width: 64, height: 64 }] }]]) }, 1);
    t.after(withPresets.close);
    const { page } = await openPage(browser, t, withPresets.url, { viewport: DESKTOP });
    await page.locator('#op-picker option').first().waitFor({ state: 'attached' });
    assert.equal(await page.locator('#info-card').isHidden(), true, 'no panel before a photo is chosen');

    await page.setInputFiles('#files', [photo('Storm.jpg'), photo('rocket.jpg')]);
    const facts = page.locator('#info-facts');
    await facts.getByText('Canon EOS 400D DIGITAL').waitFor();
    const text = await facts.textContent() ?? '';
    assert.match(text, /Size1920×1280/);
    assert.match(text, /Taken2008-04-20 19:12:06/);
    // The placeholder drawn by the browser from the server's data URL: its mean colour is the
    // photo's, as Pillow measures it (Storm.jpg has no ICC profile: sRGB as stored).
    const drawn = await page.evaluate(async () => {
      const image = document.getElementById('info-placeholder') as HTMLImageElement;
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.naturalWidth;
      canvas.height = image.naturalHeight;
      const context2d = canvas.getContext('2d')!;
      context2d.drawImage(image, 0, 0);
      const { data } = context2d.getImageData(0, 0, canvas.width, canvas.height);
      const sums = [0, 0, 0];
      for (let i = 0; i < data.length; i += 4) for (let c = 0; c < 3; c++) sums[c] += data[i + c];
      return { mean: sums.map((sum) => sum / (data.length / 4)), width: image.naturalWidth, height: image.naturalHeight };
    });
    const { execFileSync } = await import('node:child_process');
    const pillow = JSON.parse(execFileSync('/usr/bin/python3', ['-c', 'import sys, json\nfrom PIL import Image, ImageStat\nprint(json.dumps(ImageStat.Stat(Image.open(sys.argv[1]).convert("RGB")).mean))', photo('Storm.jpg')], { encoding: 'utf8' })) as number[];
    assert.ok(drawn.mean.every((v, c) => Math.abs(v - pillow[c]) <= 12), `placeholder mean ${drawn.mean} vs Pillow ${pillow}`);
    assert.ok(Math.abs(drawn.width / drawn.height - 1920 / 1280) < 0.25, `placeholder ${drawn.width}×${drawn.height}`);
    // Both boxes from one layout: measured one after the other, content still loading above
    // (the photo list's thumbnails) could move the page between the two readings.
    await page.locator('#info-image').evaluate((image: HTMLImageElement) => image.decode());
    const [placeholderBox, imageBox] = await page.evaluate(() => ['info-placeholder', 'info-image'].map((id) => {
      const { x, y, width, height } = document.getElementById(id)!.getBoundingClientRect();
      return { x, y, width, height };
    }));
    assert.ok(placeholderBox && imageBox && Math.abs(placeholderBox.y - imageBox.y) < 2 && placeholderBox.x > imageBox.x, `side by side: placeholder ${JSON.stringify(placeholderBox)}, photo ${JSON.stringify(imageBox)}`);

    await page.locator('#sample').selectOption({ label: 'rocket.jpg' });
    await facts.getByText('Adobe RGB (1998)').waitFor();
    assert.doesNotMatch(await facts.textContent() ?? '', /Camera/);
    await expectAccessible(page, 'info panel', 24, '#info-card');

    const picker = page.getByLabel('Server presets');
    await picker.selectOption({ label: 'thumb' });
    await page.locator('#steps > li').first().waitFor();
    assert.equal(await page.locator('#steps > li').count(), 1);
    assert.match(await page.locator('#compact').inputValue(), /^resize:width=64:height=64/);
  });

  it('shows the live workers of a cluster, with their load', async (t) => {
    const cluster = await startCluster();
    t.after(() => cluster.stop());
    const clustered = await testServer('cluster', cluster);
    t.after(() => clustered.close());
    const address = await clustered.app.listen({ host: '127.0.0.1', port: 0 });
    const context = await browser.newContext({ viewport: DESKTOP });
    t.after(() => context.close());
    const page = await context.newPage();
    await page.goto(address);
    const row = page.getByRole('row').filter({ hasText: 'api-worker' });
    await assert.doesNotReject(row.waitFor({ timeout: 10_000 }));
    assert.match(await row.textContent() ?? '', /api-worker.*0\/2/);
    assert.equal(await page.getByRole('link', { name: 'Queues' }).getAttribute('href'), '/admin/queues');
  });
});

// ---- what every state must meet ----

/**
 * axe-core's WCAG 2.x A/AA and best-practice rules find nothing; control edges have 3:1 contrast
 * (WCAG 1.4.11, which axe does not check); every target is at least `target` px a side.
 */
async function expectAccessible(page: Page, state: string, target: number, within = 'body'): Promise<void> {
  // Evaluated by the browser's debugger, which the page's Content-Security-Policy (no inline scripts) does not govern.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(readFileSync(AXE, 'utf8'));
  const violations = await page.evaluate(async (root) => {
    const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: { id: string; nodes: { target: string[]; failureSummary: string }[] }[] }> } }).axe;
    const result = await axe.run(document.querySelector(root), { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } });
    return result.violations.map((v) => `${v.id}: ${v.nodes.slice(0, 4).map((n) => `${n.target.join(' ')} (${n.failureSummary.replace(/\s+/g, ' ')})`).join('; ')}`);
  }, within);
  assert.deepEqual(violations, [], `axe-core in state "${state}"`);
  assert.deepEqual(await page.evaluate(weakEdges, within), [], `control edges under 3:1 in state "${state}"`);
  assert.deepEqual(await page.evaluate(smallTargets, { root: within, min: target }), [], `targets under ${target} px in state "${state}"`);
}

/** Runs in the page: controls whose edge (border, or fill without one) has less than 3:1 contrast with what is behind. */
function weakEdges(root: string): string[] {
  const parse = (text: string) => {
    const m = /rgba?\(([^)]+)\)/.exec(text);
    if (!m) return undefined;
    const [r, g, b, a = 1] = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const luminance = ({ r, g, b }: { r: number; g: number; b: number }) => {
    const f = (v: number) => { const c = v / 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const contrast = (x: ReturnType<typeof parse>, y: ReturnType<typeof parse>) => {
    const [hi, lo] = [luminance(x!), luminance(y!)].sort((p, q) => q - p);
    return (hi + 0.05) / (lo + 0.05);
  };
  const behind = (node: Element) => {
    for (let n = node.parentElement; n; n = n.parentElement) {
      const colour = parse(getComputedStyle(n).backgroundColor);
      if (colour && colour.a > 0.5) return colour;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const weak: string[] = [];
  const controls = document.querySelector(root)!.querySelectorAll<HTMLElement>('button, a.button, input:not([type=range]):not([type=checkbox]):not([type=file]), select');
  for (const control of controls) {
    const style = getComputedStyle(control);
    // Text links, and pictures that are buttons, are known by their words and their picture.
    if (!control.checkVisibility() || control.classList.contains('visually-hidden') || control.classList.contains('thumbs') || style.textDecorationLine.includes('underline')) continue;
    const edges = [];
    const border = parse(style.borderTopColor);
    if (parseFloat(style.borderTopWidth) >= 1 && border && border.a > 0.5) edges.push(border);
    const fill = parse(style.backgroundColor);
    if (fill && fill.a > 0.5) edges.push(fill);
    const best = Math.max(0, ...edges.map((edge) => contrast(edge, behind(control))));
    if (best < 3) weak.push(`${control.id || control.getAttribute('aria-label') || control.textContent}: ${best.toFixed(2)}:1`);
  }
  return weak;
}

/** Runs in the page: visible targets smaller than `min` px (a checkbox's target is its label). */
function smallTargets({ root, min }: { root: string; min: number }): string[] {
  const small: string[] = [];
  for (const node of document.querySelector(root)!.querySelectorAll<HTMLElement>('a[href], button, input, select, summary, textarea, [tabindex="0"]')) {
    if (!node.checkVisibility() || node.classList.contains('visually-hidden') || node.closest('[inert]')) continue;
    const target = node instanceof HTMLInputElement && (node.type === 'checkbox' || node.type === 'radio') ? node.closest('label') ?? node : node;
    const box = target.getBoundingClientRect();
    if (box.width < min - 0.5 || box.height < min - 0.5) small.push(`${node.id || node.getAttribute('aria-label') || node.textContent?.trim()}: ${box.width.toFixed(0)}×${box.height.toFixed(0)}`);
  }
  return small;
}

// ---- helpers ----

/** Waits for the run's summary to say `text`. */
async function expectSummary(page: Page, text: RegExp): Promise<void> {
  let deadline = Date.now() + 60_000;
  for (;;) {
    const shown = await page.locator('#summary:not([hidden]) #summary-text').textContent({ timeout: 60_000 });
    if (text.test(shown ?? '')) return;
    // Once a summary is shown, it is the final one within a moment.
    deadline = Math.min(deadline, Date.now() + 1000);
    if (Date.now() > deadline) assert.match(shown ?? '', text, 'the summary');
    await page.waitForTimeout(100);
  }
}

async function expectInView(page: Page, locator: ReturnType<Page['locator']>, what: string): Promise<void> {
  await locator.waitFor();
  const deadline = Date.now() + 3000;
  for (;;) {
    const box = await locator.boundingBox();
    const height = page.viewportSize()!.height;
    if (box && box.y >= -1 && box.y + Math.min(box.height, 120) <= height) return;
    if (Date.now() > deadline) assert.fail(`${what} is not in view: ${JSON.stringify(box)}, window height ${height}`);
    await page.waitForTimeout(100);
  }
}

async function waitForValue(page: Page, selector: string, value: string): Promise<void> {
  try {
    await page.waitForFunction(({ selector, value }) => (document.querySelector(selector) as HTMLInputElement).value === value, { selector, value }, { timeout: 10_000 });
  } catch {
    assert.equal(await page.locator(selector).inputValue(), value);
  }
}

/** Records the progress bar's value each time its words change. */
async function recordProgress(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen: { value: number; text: string }[] = [];
    (window as unknown as { progressSeen: typeof seen }).progressSeen = seen;
    const label = document.getElementById('progress-label')!;
    new MutationObserver(() => seen.push({ value: (document.getElementById('progress') as HTMLProgressElement).value, text: label.textContent ?? '' }))
      .observe(label, { childList: true, characterData: true, subtree: true });
  });
}

function progressSeen(page: Page): Promise<{ value: number; text: string }[]> {
  return page.evaluate(() => (window as unknown as { progressSeen: { value: number; text: string }[] }).progressSeen);
}

async function viewOf(page: Page): Promise<{ scale: number; originX: number; originY: number; canvasWidth: number; canvasHeight: number }> {
  return page.evaluate(() => {
    const stage = document.getElementById('stage')!;
    const canvas = document.getElementById('compare-canvas') as HTMLCanvasElement;
    return { scale: Number(stage.dataset.scale), originX: Number(stage.dataset.originX), originY: Number(stage.dataset.originY), canvasWidth: canvas.width, canvasHeight: canvas.height };
  });
}

/** The accessible name of the focused element, roughly: its label, aria-label or text. */
function focusedName(page: Page): Promise<string> {
  return page.evaluate(() => {
    const node = document.activeElement as HTMLElement | null;
    if (!node || node === document.body) return '(the page)';
    const label = node.id ? document.querySelector(`label[for="${node.id}"]`) : null;
    return node.getAttribute('aria-label') ?? label?.textContent?.trim() ?? node.textContent?.trim() ?? '';
  });
}

/** Presses Tab until `name` has the focus, checking at every stop that the focus can be seen. */
async function tabTo(page: Page, name: string, key = 'Tab'): Promise<void> {
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press(key);
    const focus = await page.evaluate(() => {
      const node = document.activeElement as HTMLElement;
      const style = getComputedStyle(node);
      return { visible: (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2) || style.boxShadow !== 'none', tag: node.tagName };
    });
    const current = await focusedName(page);
    assert.ok(focus.visible || current === '(the page)', `no visible focus on ${current} (${focus.tag})`);
    if (current === name) return;
  }
  assert.fail(`Tab never reached ${name}`);
}

const shiftTabTo = (page: Page, name: string) => tabTo(page, name, 'Shift+Tab');
