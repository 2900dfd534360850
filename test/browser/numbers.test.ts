import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, buildTestApp, listen, type TestApp } from '../helper.js';
import { launchBrowser } from './chromium.js';

describe.runIf(browserAvailable())('numbers page in a real browser', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  beforeAll(async () => {
    t = await buildTestApp({ config: { numbers: { delay_ms: 100 } } });
    base = await listen(t.app);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser.close();
    await t.close();
  });

  it('fires concurrent requests, shows each total and time, and the live loop delay', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/numbers/`);
    await page.locator('#source', { hasText: '0 … 1,000,000 after 100 ms' }).waitFor();
    await page.locator('#concurrency').fill('4');
    await page.locator('button[type="submit"]').click();
    const rows = page.locator('#results tr');
    await page.locator('#results tr td:nth-child(4)', { hasText: 'ok' }).nth(3).waitFor();
    expect(await rows.count()).toBe(4);
    for (let i = 0; i < 4; i++) {
      expect(await rows.nth(i).locator('td').nth(1).textContent()).toBe('500000500000');
      expect(Number(await rows.nth(i).locator('td').nth(2).textContent())).toBeGreaterThanOrEqual(
        100,
      );
    }
    // The four requests shared one upstream call.
    await page.locator('#coalesced', { hasText: '3' }).waitFor();
    expect(await page.locator('#p99').textContent()).toMatch(/^\d+\.\d\d$/);
    await page.close();
  });
});
