/**
 * The original queue client's request sequence in a real browser, against Agora's stand-in page
 * at the root (queue.compat): get-token, the `/update` stream's lines on every open page,
 * post-token with the `token-field` form, and start-delay when the picture is put away.
 */
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, buildTestApp, listen, type TestApp } from '../helper.js';
import { launchBrowser } from './chromium.js';

describe.runIf(browserAvailable())("the original queue client's page, in two browsers", () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  beforeAll(async () => {
    t = await buildTestApp({ config: { prefixes: { queue: '/' }, queue: { compat: true } } });
    base = await listen(t.app);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser.close();
    await t.close();
  });

  /** A page, and the requests it makes to the original's routes, in order. */
  async function open(): Promise<{ page: Page; calls: string[] }> {
    const page = await (await browser.newContext()).newPage();
    const calls: string[] = [];
    page.on('request', (r: Request) => {
      const path = new URL(r.url()).pathname;
      if (['/get-token', '/post-token', '/update', '/start-delay'].includes(path))
        calls.push(`${r.method()} ${path}${r.postData() ? ` ${r.postData()}` : ''}`);
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/`);
    expect(await page.title()).toBe('Kitty Getter');
    expect(errors).toEqual([]);
    return { page, calls };
  }

  it('takes two tokens, shows them on both boards, claims on its turn and puts the picture away', async () => {
    const one = await open();
    const two = await open();
    await one.page.getByRole('button', { name: 'Get a token' }).click();
    await one.page.locator('#token', { hasText: 'A00' }).waitFor();
    await two.page.getByRole('button', { name: 'Get a token' }).click();
    await two.page.locator('#token', { hasText: 'A01' }).waitFor();
    for (const { page } of [one, two]) {
      await page.locator('#first-column .token-field').nth(1).waitFor();
      expect(await page.locator('#first-column .token-field').allTextContents()).toEqual([
        'A00',
        'A01',
      ]);
    }

    // Out of turn: told so, no ban.
    await two.page.getByRole('button', { name: 'Get my kitty' }).click();
    await two.page.getByRole('status').filter({ hasText: "It's not your turn" }).waitFor();

    await one.page.getByRole('button', { name: 'Get my kitty' }).click();
    await one.page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('#image');
      return img !== null && img.complete && img.naturalWidth > 0;
    });
    // Every board saw the head leave.
    for (const { page } of [one, two]) {
      await page.waitForFunction(
        () => document.querySelectorAll('#first-column .token-field').length === 1,
      );
      expect(await page.locator('#first-column .token-field').allTextContents()).toEqual(['A01']);
    }
    const delay = one.page.waitForResponse((r) => new URL(r.url()).pathname === '/start-delay');
    await one.page.getByRole('button', { name: 'Done' }).click();
    expect((await delay).status()).toBe(204);

    // Now A01 is head and claims.
    await two.page.getByRole('button', { name: 'Get my kitty' }).click();
    await two.page.locator('#image-toolbar:not([hidden])').waitFor();

    expect(one.calls).toEqual([
      'GET /update',
      'GET /get-token',
      'POST /post-token token-field=A00',
      'GET /start-delay',
    ]);
    expect(two.calls).toEqual([
      'GET /update',
      'GET /get-token',
      'POST /post-token token-field=A01',
      'POST /post-token token-field=A01',
    ]);
  });
});
