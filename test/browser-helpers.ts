/** Debian's Chromium through playwright-core, and an imgfleet server for the page to talk to. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { LocalEngine } from '../src/engine/local/local-engine.js';
import { buildServer } from '../src/server/app.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The reason browser tests are skipped here, or false when they can run. */
export const noBrowser = !existsSync(CHROMIUM) && `no browser at ${CHROMIUM} (apt-get install chromium)`;

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}

type ServerOptions = Omit<Parameters<typeof buildServer>[0], 'engine'>;

/** A server on a local pool of `threads`, listening on a free loopback port. */
export async function startPageServer(options: ServerOptions = {}, threads = 2): Promise<{ url: string; close: () => Promise<void> }> {
  const engine = new LocalEngine({ threads });
  const app = await buildServer({ engine, ...options });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, close: async () => { await app.close(); await engine.close(); } };
}

/**
 * A page in a fresh context, at `url` (nothing is opened when it is undefined). Errors in the
 * page, and anything the server's Content-Security-Policy refuses, fail the test at its end.
 */
export async function openPage(
  browser: Browser, t: { after: (fn: () => Promise<void>) => void }, url: string | undefined, options: Parameters<Browser['newContext']>[0],
): Promise<{ page: Page; context: BrowserContext }> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => { if (/Content.Security.Policy/i.test(message.text())) errors.push(message.text()); });
  t.after(async () => {
    await context.close();
    assert.deepEqual(errors, [], 'errors in the page');
  });
  if (url) await page.goto(url);
  return { page, context };
}
