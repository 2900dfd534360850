import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, buildTestApp, listen, type TestApp } from '../helper.js';
import { consoleErrors } from './audit.js';
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

  it('has the server fire 16 requests at once, streams their times, and charts the loop delay with axes and the threshold', async () => {
    const page = await browser.newPage({ locale: 'en-US' });
    const errors = consoleErrors(page);
    await page.goto(`${base}/numbers/`);
    await page.locator('#source', { hasText: '0 … 1,000,000 after 100 ms' }).waitFor();
    await page.getByLabel('Requests at once').fill('16');
    await page.getByRole('button', { name: 'Fire' }).click();
    const summary = page.locator('#summary', { hasText: /^16 requests answered in/ });
    await summary.waitFor();
    // More than a browser's six at once: one upstream call, shared by the other 15.
    expect(await summary.textContent()).toContain(
      'the upstream was called once; 15 shared a running sum',
    );
    const rows = page.locator('#results tr');
    expect(await rows.count()).toBe(16);
    for (let i = 0; i < 16; i++) {
      const cells = rows.nth(i).locator('td');
      expect(await cells.nth(1).textContent()).toBe('500,000,500,000');
      expect(await cells.nth(2).textContent()).toMatch(/^\d[\d,.]* ms$/);
      expect(await cells.nth(3).textContent()).toBe('ok');
    }
    // The chart: uPlot's canvas with both axes, the delay series and the 10 ms threshold.
    await page.locator('#chart canvas').waitFor();
    expect(await page.locator('#chart .u-axis').count()).toBe(2);
    expect(await page.locator('#chart .u-legend .u-series').allTextContents()).toEqual(
      expect.arrayContaining([
        expect.stringContaining('worst delay (ms)'),
        expect.stringContaining('10 ms'),
      ]),
    );
    expect(await page.locator('#p99').textContent()).toMatch(/^[\d.,]+ ms$/);
    expect(errors.unexpected()).toEqual([]);
    await page.close();
  });
});
