import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, buildTestApp, listen, type TestApp } from '../helper.js';
import { launchBrowser } from './chromium.js';

describe.runIf(browserAvailable())('tax page in a real browser', () => {
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

  it('computes a household from the form and shows the breakdown; wrong credentials are said', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/tax/`);
    await page.locator('input[name="married"][value="yes"]').check();
    await page.locator('#children').fill('3');
    await page.locator('#salary').fill('200000');
    await page.locator('#password').fill('admin');
    await page.locator('button[type="submit"]').click();
    await page.locator('#result:not([hidden])').waitFor();
    expect(await page.locator('#tax').textContent()).toMatch(/^42\s?842$/);
    expect(await page.locator('#rate').textContent()).toBe('41 %');
    expect(await page.locator('#surcharge').textContent()).toMatch(/^17\s?283 €$/);

    await page.locator('#password').fill('wrong');
    await page.locator('button[type="submit"]').click();
    await page.locator('#errors', { hasText: 'authentication required' }).waitFor();
    expect(await page.locator('#result').isHidden()).toBe(true);
    await page.close();
  });
});
