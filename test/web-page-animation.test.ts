import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { launchBrowser, noBrowser, openPage, startPageServer } from './browser-helpers.js';
import { readAnimation } from './animation-container.js';
import { photo, tempDir } from './helpers.js';

describe('the web page with an animation and a crop position', { skip: noBrowser }, () => {
  let browser: Browser;
  let url: string;
  let close: () => Promise<void>;

  before(async () => {
    ({ url, close } = await startPageServer());
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await close?.();
  });

  it('offers the crop position from the registry, and the preview of an animated GIF animates', async (t) => {
    const dir = tempDir(t);
    const frames = await Promise.all(['coffee.png', 'chelsea.png', 'astronaut.png'].map((name) =>
      sharp(photo(name)).resize(240, 160, { fit: 'fill' }).png().toBuffer()));
    const gif = join(dir, 'moving.gif');
    writeFileSync(gif, await sharp(frames, { join: { animated: true } }).gif({ delay: [150, 150, 150], loop: 0 }).toBuffer());

    const { page } = await openPage(browser, t, url, { viewport: { width: 1280, height: 800 } });
    await page.locator('#op-picker option').first().waitFor({ state: 'attached' });
    await page.setInputFiles('#files', [gif]);
    await page.getByRole('list', { name: 'Chosen photos' }).getByRole('listitem').first().waitFor();

    await page.getByLabel('Add a step').selectOption({ label: 'Resize' });
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByLabel('Width', { exact: true }).fill('120');
    await page.getByLabel('Height', { exact: true }).fill('120');
    await page.getByLabel('Fit').selectOption('cover');
    const position = page.getByLabel('Crop position');
    assert.deepEqual(await position.locator('option').allTextContents(),
      ['center', 'north', 'northeast', 'east', 'southeast', 'south', 'southwest', 'west', 'northwest', 'attention', 'entropy']);
    await position.selectOption('attention');
    await page.waitForFunction(() => (document.getElementById('compact') as HTMLInputElement).value.includes('position=attention'));

    await page.waitForFunction(() => {
      const img = document.getElementById('preview-after') as HTMLImageElement;
      return img.complete && img.naturalWidth === 120 && !img.classList.contains('stale');
    }, undefined, { timeout: 20_000 });
    // The pipeline the page built makes an animated GIF, every frame cropped…
    const compact = await page.locator('#compact').inputValue();
    const response = await fetch(`${url}/v1/process?pipeline=${encodeURIComponent(compact)}`, { method: 'POST', body: readFileSync(gif), headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(response.status, 200);
    const bytes = Buffer.from(await response.arrayBuffer());
    const facts = readAnimation(bytes);
    assert.deepEqual([facts.format, facts.width, facts.height, facts.frames, facts.delays], ['gif', 120, 120, 3, [150, 150, 150]]);
    // …and the page shows it moving: two looks at it a frame apart differ.
    const preview = page.locator('#preview-after');
    const first = await preview.screenshot();
    let moved = false;
    for (let i = 0; i < 6 && !moved; i++) {
      await page.waitForTimeout(200);
      moved = !(await preview.screenshot()).equals(first);
    }
    assert.ok(moved, 'the preview did not change between frames');
  });
});
