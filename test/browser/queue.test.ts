import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, buildTestApp, listen, type TestApp } from '../helper.js';
import { launchBrowser } from './chromium.js';

describe.runIf(browserAvailable())('queue page in two real browsers', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  beforeAll(async () => {
    t = await buildTestApp();
    base = await listen(t.app);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser.close();
    await t.close();
  });

  async function open(): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${base}/queue/`);
    await page.locator('#live', { hasText: 'live' }).waitFor();
    return page;
  }

  it('shows both tokens on both boards; A claims a picture; B sees A leave and becomes head', async () => {
    const a = await open();
    const b = await open();
    await a.locator('#take').click();
    await a.locator('#my-token', { hasText: 'A00' }).waitFor();
    await b.locator('#take').click();
    await b.locator('#my-token', { hasText: 'A01' }).waitFor();

    for (const page of [a, b]) {
      await page.locator('#head', { hasText: 'A00' }).waitFor();
      await page.locator('#board li', { hasText: 'A01' }).waitFor();
    }
    await a.locator('#my-status', { hasText: 'It is your turn!' }).waitFor();
    await b.locator('#my-status', { hasText: 'You are number 2 in the line.' }).waitFor();
    expect(await b.locator('#claim').isDisabled()).toBe(true);

    await a.locator('#claim').click();
    await a.locator('#picture:not([hidden])').waitFor();
    await a.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('#kitty');
      return img !== null && img.complete && img.naturalWidth > 0;
    });
    expect(await a.locator('#download').getAttribute('href')).toMatch(/^\/images\//);

    await b.locator('#head', { hasText: 'A01' }).waitFor();
    await b.locator('#serving', { hasText: 'A00' }).waitFor();
    await b.locator('#my-status', { hasText: 'It is your turn!' }).waitFor();
    expect(await b.locator('#board li').count()).toBe(0);
    expect(await b.locator('#claim').isEnabled()).toBe(true);
    await b.locator('#countdown', { hasText: /s left to claim/ }).waitFor();
  });
});
