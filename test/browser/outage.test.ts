/**
 * The server goes away under an open page and comes back: the page says so at once, refuses
 * actions with a clear message instead of failing silently, and on recovery hides the banner
 * and shows what changed while it was away.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { browserAvailable, buildTestApp, freePort, testLogger, type TestApp } from '../helper.js';
import { setup, updateProduct } from '../market/helpers.js';
import { launchBrowser } from './chromium.js';

describe.runIf(browserAvailable())('a page while the server is down', () => {
  let t: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    t = await buildTestApp();
    await setup(t.app, true, 5);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser.close();
    await t.close();
  });

  it('shows the banner, refuses a purchase clearly, then recovers and shows what changed', async () => {
    const port = await freePort();
    await t.app.listen({ host: '127.0.0.1', port });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${String(port)}/market/`);
    await page.locator('#status[data-status="live"][data-topics="products"]').waitFor();
    const banner = page.locator('#banner');
    expect(await banner.isHidden()).toBe(true);

    await t.app.close();
    await banner.filter({ hasText: 'Agora is unreachable. Retrying…' }).waitFor();
    await page.locator('tr[data-id="1"]').getByRole('button', { name: 'Buy apple' }).click();
    await page
      .locator('#message', { hasText: 'Not bought: Agora is unreachable; nothing was done.' })
      .waitFor();

    // The server comes back on the same database, where the price changed meanwhile.
    const again = await buildApp(t.config, { logger: testLogger() });
    try {
      await updateProduct(again, 1, 'apple', 11);
      await again.listen({ host: '127.0.0.1', port });
      await banner.waitFor({ state: 'hidden' });
      await page.locator('.toast', { hasText: 'Agora is reachable again.' }).waitFor();
      await page.locator('tr[data-id="1"] .price[data-value="11"]').waitFor();
      // Live again: a purchase elsewhere shows in this page's stock.
      await page.locator('#status[data-status="live"][data-topics="products"]').waitFor();
      const before = Number(
        await page.locator('tr[data-id="2"] .stock').getAttribute('data-value'),
      );
      await again.inject({
        method: 'POST',
        url: '/market/buy/2',
        payload: { amount: 1, credit_card: '4242424242424242' },
      });
      await page.locator(`tr[data-id="2"] .stock[data-value="${String(before - 1)}"]`).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await again.close();
    }
  });
});
