import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEB_ROOT } from '../../src/core/web.js';
import { echoModule } from '../fixtures/echo-module.js';
import { browserAvailable, buildTestApp, listen, type TestApp } from '../helper.js';
import { launchBrowser } from './chromium.js';

describe.runIf(browserAvailable())('landing page in a real browser', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(path.join(WEB_ROOT, 'index.html'))) {
      throw new Error(
        `web pages are not built in ${WEB_ROOT}: run \`npm run build\` (npm test does)`,
      );
    }
    t = await buildTestApp({ build: { modules: [echoModule] } });
    base = await listen(t.app);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser.close();
    await t.close();
  });

  it('lists the enabled modules with links to their pages and to the API docs', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    await page.goto(`${base}/`);
    const card = page.locator('[data-module="echo"]');
    await card.waitFor();
    expect(await card.locator('h3').textContent()).toBe('Echo');
    expect(await card.locator('a').getAttribute('href')).toBe('/echo/');
    expect(await page.locator('#docs-link').getAttribute('href')).toBe('/docs');
    expect(await page.locator('#version').textContent()).toMatch(/^Agora \d+\.\d+\.\d+/);
    await card.locator('a').click();
    await page.waitForURL(`${base}/echo/`);
    expect(await page.locator('h1').textContent()).toBe('echo');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('opens the API reference, finds a route with the filter, and goes back to Agora', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/docs`);
    await page.locator('#routes[data-ready]').waitFor({ state: 'attached' });
    await page.getByLabel('Filter routes').fill('echo items');
    await page.locator('#count', { hasText: /^\d+ of \d+ routes match\.$/ }).waitFor();
    const visible = page.locator('details.op:visible');
    expect(await visible.count()).toBeGreaterThan(0);
    for (const text of await visible.locator('.path').allTextContents())
      expect(text).toContain('/echo/items');
    await visible.first().locator('summary').click();
    expect(await visible.first().locator('pre').first().textContent()).toBeTruthy();
    await page.getByRole('link', { name: 'Agora', exact: true }).click();
    await page.waitForURL(`${base}/`);
    await page.close();
  });
});
