import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEB_ROOT } from '../../src/core/web.js';
import { browserAvailable, buildTestApp, listen, type TestApp } from '../helper.js';
import { setup } from '../market/helpers.js';
import { launchBrowser } from './chromium.js';

describe.runIf(browserAvailable())('market page in two browsers', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(path.join(WEB_ROOT, 'pages/market/index.html')))
      throw new Error('web pages are not built: run `npm run build`');
    t = await buildTestApp();
    await setup(t.app, true, 5);
    base = await listen(t.app);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser.close();
    await t.close();
  });

  async function open(): Promise<Page> {
    const context = await browser.newContext(); // its own localStorage: its own wish list
    const page = await context.newPage();
    await page.goto(`${base}/market/`);
    await page.locator('#products tbody tr').first().waitFor();
    await page.locator('#status[data-status="live"]').waitFor();
    return page;
  }

  const toasts = (page: Page): Promise<string[]> => page.locator('.toast').allTextContents();

  it('shows wish-listed price changes and new products as toasts, live, and survives a dropped connection', async () => {
    const a = await open();
    const b = await open();

    expect(await a.locator('tr[data-id="3"] .description').textContent()).toBe('orange');
    expect(await a.locator('tr[data-id="3"] .stock').textContent()).toBe('5');

    // Page A wish-lists product 3 and asks for new-product notices; page B does neither.
    await a.locator('tr[data-id="3"] button.wish').click();
    await a.locator('#notify-new').check();
    expect(await a.locator('tr[data-id="3"] button.wish').getAttribute('aria-pressed')).toBe(
      'true',
    );
    // Wait until the server has confirmed both subscriptions.
    await a.locator('#status[data-topics="product.3 products.new"]').waitFor();

    await t.app.inject({
      method: 'PUT',
      url: '/product/3',
      payload: { description: 'orange', price: 22 },
    });
    await a
      .locator('.toast', { hasText: 'Product orange price changed: 20 → 22' })
      .waitFor({ timeout: 1000 });
    expect(await a.locator('tr[data-id="3"] .price').textContent()).toBe('22');

    await t.app.inject({
      method: 'POST',
      url: '/product/',
      payload: { description: 'dragon fruit', price: 60 },
    });
    await a
      .locator('.toast', { hasText: 'A new product has been released: dragon fruit' })
      .waitFor({ timeout: 1000 });

    // B heard nothing about product 3 (nor about new products).
    expect(await toasts(b)).toEqual([]);

    // The server drops every connection; A reconnects by itself and still hears the next change.
    expect(t.app.realtime.disconnectAll()).toBeGreaterThanOrEqual(2);
    await a
      .locator('#status[data-status="live"][data-topics="product.3 products.new"]')
      .waitFor({ timeout: 5000 });
    await t.app.inject({
      method: 'PUT',
      url: '/product/3',
      payload: { description: 'orange', price: 25 },
    });
    await a
      .locator('.toast', { hasText: 'Product orange price changed: 22 → 25' })
      .waitFor({ timeout: 5000 });
    expect(await toasts(b)).toEqual([]);
  });

  it('buys from the page and shows the new stock', async () => {
    const page = await open();
    const row = page.locator('tr[data-id="1"]');
    const before = Number(await row.locator('.stock').textContent());
    await row.locator('input[type="number"]').fill('2');
    await row.locator('button', { hasText: 'Buy' }).click();
    await page.locator('#message', { hasText: 'Bought 2 × apple' }).waitFor();
    await page.locator(`tr[data-id="1"] .stock:text-is("${before - 2}")`).waitFor();
  });
});
