/**
 * Every page of the console, as a desktop in the light theme, as a phone (390 × 844) in the dark
 * theme and at 360 px wide: no serious or critical axe-core finding, no sideways scrolling, no
 * console error.
 * Also: each page's JavaScript stays under 60 KB gzipped.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEB_ROOT } from '../../src/core/web.js';
import { browserAvailable, buildTestApp, listen, type TestApp } from '../helper.js';
import { setup } from '../market/helpers.js';
import { DESKTOP, overflowX, PHONE, seriousViolations } from './audit.js';
import { launchBrowser } from './chromium.js';

/** Each page, and what shows that it has loaded what it shows. */
const PAGES: { path: string; ready: string; status?: number }[] = [
  { path: '/', ready: '[data-module="market"]' },
  { path: '/market/', ready: '#products tbody tr' },
  { path: '/queue/', ready: '#live[data-status="live"]' },
  { path: '/numbers/', ready: '#source[data-ready]' },
  { path: '/images/', ready: '#grid[data-ready]' },
  { path: '/tax/', ready: '#tax-form' },
  { path: '/docs', ready: '#routes[data-ready]' },
  { path: '/no/such/page', ready: 'h1', status: 404 },
];

const VIEWS = [
  { name: 'desktop, light', viewport: DESKTOP, colorScheme: 'light' as const },
  { name: 'phone, dark', viewport: PHONE, colorScheme: 'dark' as const },
  // The narrowest phones in use: the layouts must hold from 360 px.
  {
    name: 'narrow phone, light',
    viewport: { width: 360, height: 740 },
    colorScheme: 'light' as const,
  },
];

describe('the console pages’ JavaScript', () => {
  it('is under 60 KB gzipped for every page, its imports included', () => {
    const pages = ['index.html', 'pages/market/index.html', 'pages/queue/index.html'].concat(
      ['numbers', 'images', 'tax'].map((m) => `pages/${m}/index.html`),
    );
    for (const page of pages) {
      const html = readFileSync(path.join(WEB_ROOT, page), 'utf8');
      const scripts = [
        ...html.matchAll(/<script[^>]+src="([^"]+)"|<link rel="modulepreload"[^>]+href="([^"]+)"/g),
      ].map((m) => m[1] ?? m[2] ?? '');
      expect(scripts.length, page).toBeGreaterThan(0);
      const gzipped = scripts.reduce(
        (sum, src) => sum + gzipSync(readFileSync(path.join(WEB_ROOT, src))).length,
        0,
      );
      expect(gzipped, page).toBeLessThan(60 * 1024);
    }
  });
});

describe.runIf(browserAvailable())('every console page, on a desktop and on a phone', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    t = await buildTestApp();
    await setup(t.app, true, 5);
    base = await listen(t.app);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser.close();
    await t.close();
  });

  describe.each(VIEWS)('$name', (view) => {
    it.each(PAGES)(
      '$path: no serious axe finding, no sideways scroll, no console error',
      async (p) => {
        const context = await browser.newContext({
          viewport: view.viewport,
          colorScheme: view.colorScheme,
        });
        const page: Page = await context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        page.on('console', (m) => {
          if (m.type() === 'error') errors.push(m.text());
        });
        try {
          const res = await page.goto(`${base}${p.path}`, { waitUntil: 'load' });
          expect(res?.status()).toBe(p.status ?? 200);
          await page.locator(p.ready).first().waitFor({ state: 'attached' });
          expect(await seriousViolations(page)).toEqual([]);
          expect(await overflowX(page)).toBe(0);
          const expected = p.status ? [`status of ${String(p.status)}`] : [];
          expect(errors.filter((e) => !expected.some((x) => e.includes(x)))).toEqual([]);
        } finally {
          await context.close();
        }
      },
    );
  });
});
