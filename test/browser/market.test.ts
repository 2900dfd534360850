import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEB_ROOT } from '../../src/core/web.js';
import { browserAvailable, buildTestApp, listen, type TestApp } from '../helper.js';
import { createProduct, setup, stockOf, updateProduct } from '../market/helpers.js';
import { PHONE, seriousViolations } from './audit.js';
import { launchBrowser } from './chromium.js';

describe.runIf(browserAvailable())('market page in two browsers', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(path.join(WEB_ROOT, 'pages/market/index.html')))
      throw new Error('web pages are not built: run `npm run build`');
    t = await buildTestApp({ config: { market: { read_cache_ms: 0 } } });
    await setup(t.app, true, 5);
    base = await listen(t.app);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser.close();
    await t.close();
  });

  /** A browser of its own (its own localStorage: its own wish list), live on the catalogue. */
  async function open(viewport?: { width: number; height: number }): Promise<Page> {
    const context = await browser.newContext(viewport ? { viewport } : {});
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    pageErrors.set(page, errors);
    await page.goto(`${base}/market/`);
    await page.locator('#products tbody tr').first().waitFor();
    await page.locator('#status[data-status="live"][data-topics="products"]').waitFor();
    return page;
  }
  const pageErrors = new Map<Page, string[]>();
  const row = (page: Page, id: number) => page.locator(`#products tr[data-id="${String(id)}"]`);
  const toasts = (page: Page): Promise<string[]> => page.locator('.toast').allTextContents();

  it("shows another browser's purchase in every browser's stock, without wish-listing", async () => {
    const a = await open();
    const b = await open();
    const before = await stockOf(t.app, 1);
    await row(a, 1).locator('input[type="number"]').fill('2');
    await row(a, 1).getByRole('button', { name: 'Buy apple' }).click();
    await a.locator('#message', { hasText: 'Bought 2 × apple for €20.00.' }).waitFor();
    await row(b, 1)
      .locator(`.stock[data-value="${String(before - 2)}"]`)
      .waitFor();
    expect(await row(b, 1).locator('.stock').textContent()).toBe(String(before - 2));
    expect(pageErrors.get(a)).toEqual([]);
    expect(pageErrors.get(b)).toEqual([]);
  });

  it('asks to confirm a price changed since the page showed it, and charges only what was confirmed', async () => {
    const p = await createProduct(t.app, { description: 'vanilla', price: 30, stock: 3 });
    const a = await open();
    await row(a, p.id).waitFor();
    // Cut this page off the live updates (its socket now reaches a server that never speaks):
    // it keeps showing 30 while the price becomes 45, as a page does between event and click.
    await a.routeWebSocket(/\/ws/, () => undefined);
    t.app.realtime.disconnectAll();
    await a.locator('#status[data-topics=""]').waitFor();
    await updateProduct(t.app, p.id, 'vanilla', 45);
    expect(await row(a, p.id).locator('.price').textContent()).toBe('€30.00');

    const buy = (): Promise<void> =>
      row(a, p.id).getByRole('button', { name: 'Buy vanilla' }).click();
    const dialog = a.getByRole('dialog', { name: 'The price of vanilla has changed' });
    await buy();
    await dialog.waitFor();
    expect(await seriousViolations(a)).toEqual([]);
    expect(await dialog.textContent()).toContain('It is €45.00 now, not €30.00');
    await dialog.getByRole('button', { name: 'Do not buy' }).click();
    await a
      .locator('#message', { hasText: 'Nothing was bought: vanilla is €45.00 now.' })
      .waitFor();
    expect(await stockOf(t.app, p.id)).toBe(3);
    // The refusal told the page the price: it shows 45 now, without the live update.
    expect(await row(a, p.id).locator('.price').textContent()).toBe('€45.00');

    // The price moves again; this time the buyer confirms, and pays the confirmed price.
    await updateProduct(t.app, p.id, 'vanilla', 50);
    await buy();
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Buy at €50.00' }).click();
    await a.locator('#message', { hasText: 'Bought 1 × vanilla for €50.00.' }).waitFor();
    expect(await stockOf(t.app, p.id)).toBe(2);
    const orders = (await t.app.inject({ url: '/market/orders?limit=5' })).json<{
      data: { product_id: number; unit_price: number; status: string }[];
    }>();
    expect(orders.data.filter((o) => o.product_id === p.id)).toEqual([
      expect.objectContaining({ unit_price: 50, status: 'Success' }),
    ]);
    // Chromium logs every 4xx answer; the two 409s are this flow's, and nothing else is there.
    expect(pageErrors.get(a)?.filter((e) => !e.includes('status of 409 (Conflict)'))).toEqual([]);
  });

  it('marks sold-out products live, and removes deleted ones live', async () => {
    const p = await createProduct(t.app, { description: 'truffle', price: 500, stock: 1 });
    const a = await open();
    const b = await open();
    await row(b, p.id).waitFor();
    await row(a, p.id).getByRole('button', { name: 'Buy truffle' }).click();
    await a.locator('#message', { hasText: 'Bought 1 × truffle' }).waitFor();
    const soldOut = row(b, p.id).getByRole('button', { name: 'truffle is sold out' });
    await soldOut.waitFor();
    expect(await soldOut.isDisabled()).toBe(true);
    expect(await row(b, p.id).locator('.stock').textContent()).toBe('Sold out');

    await t.app.inject({ method: 'DELETE', url: `/product/${String(p.id)}` });
    await row(b, p.id).waitFor({ state: 'detached' });
    await row(a, p.id).waitFor({ state: 'detached' });
  });

  it('tells wish-listed price changes and opted-in releases as toasts, and nothing else', async () => {
    const a = await open();
    const b = await open();
    await row(a, 3).getByRole('button', { name: 'Star orange' }).click();
    expect(
      await row(a, 3).getByRole('button', { name: 'Star orange' }).getAttribute('aria-pressed'),
    ).toBe('true');
    await a.getByLabel('Tell me about new products').check();
    await updateProduct(t.app, 3, 'orange', 22);
    await a
      .locator('.toast', { hasText: 'orange: the price changed from €20.00 to €22.00' })
      .waitFor();
    await t.app.inject({
      method: 'POST',
      url: '/product/',
      payload: { description: 'dragon fruit', price: 1250 },
    });
    await a
      .locator('.toast', { hasText: 'A new product has been released: dragon fruit (€1,250.00)' })
      .waitFor();
    // B lists both changes, live, but was told nothing.
    await b.locator('#products .description', { hasText: 'dragon fruit' }).waitFor();
    expect(await row(b, 3).locator('.price').textContent()).toBe('€22.00');
    expect(await toasts(b)).toEqual([]);
  });

  it('lets an administrator create, edit, restock and delete, and watch the orders ledger live', async () => {
    const admin = await open();
    const buyer = await open();
    await admin.getByText('Administration').click();
    // No admin_token on this server, and the browser is on the same machine: an empty token.
    await admin.getByRole('button', { name: 'Unlock' }).click();
    await admin.locator('#admin-tools:not([hidden])').waitFor();

    await admin.getByLabel('Description').fill('fig');
    await admin.getByLabel('Price', { exact: true }).fill('12');
    await admin.getByRole('button', { name: 'Create' }).click();
    await admin.locator('#message', { hasText: 'fig created.' }).waitFor();
    const fig = (page: Page) =>
      page.locator('#products tr', { has: page.locator('.description', { hasText: /^fig$/ }) });
    await fig(buyer).waitFor();

    const edit = async (): Promise<Locator> => {
      await fig(admin).getByRole('button', { name: 'Edit fig' }).click();
      const dialog = admin.getByRole('dialog', { name: 'Edit fig' });
      await dialog.waitFor();
      return dialog;
    };
    let dialog = await edit();
    expect(await seriousViolations(admin)).toEqual([]);
    await dialog.getByLabel('Price').fill('15');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await admin.locator('#message', { hasText: 'fig saved.' }).waitFor();
    await fig(buyer).locator('.price[data-value="15"]').waitFor();

    dialog = await edit();
    await dialog.getByLabel('Add to stock').fill('10');
    await dialog.getByRole('button', { name: 'Add stock' }).click();
    await admin.locator('#message', { hasText: '10 × fig added to the stock.' }).waitFor();
    await fig(buyer).locator('.stock[data-value="10"]').waitFor();

    // The buyer's purchase appears in the administrator's ledger, without a reload.
    await fig(buyer).locator('input[type="number"]').fill('2');
    await fig(buyer).getByRole('button', { name: 'Buy fig' }).click();
    await buyer.locator('#message', { hasText: 'Bought 2 × fig for €30.00.' }).waitFor();
    const order = admin.locator('#orders tbody tr', { hasText: 'fig' }).first();
    await order.waitFor();
    expect(await order.locator('td').allTextContents()).toEqual([
      expect.stringMatching(/^\d+$/),
      expect.any(String),
      'fig',
      '2',
      '€30.00',
      'Success',
      '•••• 4242',
    ]);

    dialog = await edit();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await admin
      .getByRole('dialog', { name: 'Delete fig?' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await admin.locator('#message', { hasText: 'fig deleted.' }).waitFor();
    await fig(buyer).waitFor({ state: 'detached' });
    await fig(admin).waitFor({ state: 'detached' });
    expect(pageErrors.get(admin)).toEqual([]);
    expect(pageErrors.get(buyer)).toEqual([]);
  });

  it('buys with the keyboard alone, and Enter in the card field does not reload the page', async () => {
    const a = await open();
    await a.locator('#card').focus();
    await a.keyboard.press('Control+A');
    await a.keyboard.type('4242 4242 4242 4241');
    await a.keyboard.press('Enter');
    await a.locator('#message', { hasText: 'The card number looks right.' }).waitFor();
    // Tab from the card to the first row: star, amount, Buy.
    await a.keyboard.press('Tab');
    expect(await a.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(
      'Star apple',
    );
    await a.keyboard.press('Tab');
    await a.keyboard.type('1');
    await a.keyboard.press('Tab');
    expect(await a.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(
      'Buy apple',
    );
    const before = await stockOf(t.app, 1);
    await a.keyboard.press('Enter');
    await a.locator('#message', { hasText: 'Bought 1 × apple' }).waitFor();
    expect(await stockOf(t.app, 1)).toBe(before - 1);
    // A wrong card is said next to the field, which takes the focus; nothing is bought.
    await a.locator('#card').fill('1234');
    await row(a, 1).getByRole('button', { name: 'Buy apple' }).click();
    await a.locator('#card-error', { hasText: 'Enter the 16 digits' }).waitFor();
    expect(await a.evaluate(() => document.activeElement?.id)).toBe('card');
    expect(await stockOf(t.app, 1)).toBe(before - 1);
  });

  it('fits a phone: no sideways scrolling, and the outcome of a purchase is on screen', async () => {
    const a = await open(PHONE);
    expect(await a.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      PHONE.width,
    );
    const buyBeer = row(a, 10).getByRole('button', { name: 'Buy beer' });
    await buyBeer.scrollIntoViewIfNeeded();
    await buyBeer.click();
    const outcome = a.locator('#message', { hasText: 'Bought 1 × beer' });
    await outcome.waitFor();
    const box = await outcome.boundingBox();
    expect(box).not.toBeNull();
    expect(box!.y + box!.height).toBeLessThanOrEqual(PHONE.height);
    expect(box!.y).toBeGreaterThanOrEqual(0);
  });
});
