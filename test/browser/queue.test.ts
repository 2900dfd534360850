import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { browserAvailable, buildTestApp, listen, type TestApp } from '../helper.js';
import { wipe } from '../queue/helpers.js';
import { consoleErrors, seriousViolations } from './audit.js';
import { launchBrowser } from './chromium.js';

/** Records the notifications a page shows, with the permission already granted. */
const NOTIFICATIONS = `
  window.__shown = [];
  window.Notification = class {
    static permission = 'granted';
    static requestPermission() { return Promise.resolve('granted'); }
    constructor(title, options) { window.__shown.push({ title, body: options && options.body }); }
  };
`;

describe.runIf(browserAvailable())('queue page in real browsers', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  beforeAll(async () => {
    t = await buildTestApp();
    base = await listen(t.app);
    browser = await launchBrowser();
  });
  beforeEach(async () => {
    await wipe(t);
  });
  afterAll(async () => {
    await browser.close();
    await t.close();
  });

  async function open(hash = '', at = base): Promise<Page> {
    const context = await browser.newContext();
    await context.addInitScript(NOTIFICATIONS);
    const page = await context.newPage();
    errorsOf.set(page, consoleErrors(page));
    await page.goto(`${at}/queue/${hash}`);
    await page.locator('#live[data-status="live"]').waitFor({ state: 'attached' });
    return page;
  }
  const errorsOf = new Map<Page, ReturnType<typeof consoleErrors>>();
  const take = async (page: Page, code: string): Promise<void> => {
    await page.getByRole('button', { name: /Take a (new )?token/ }).click();
    await page.locator('#my-token', { hasText: code }).waitFor();
  };
  const issueMany = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/queue/tokens' });
      expect(res.statusCode).toBe(201);
    }
  };

  it('shows both tokens on both boards; A claims; B is alerted, then A takes a new token', async () => {
    const a = await open();
    const b = await open();
    await take(a, 'A00');
    await take(b, 'A01');
    await b.getByLabel('Show a browser notification').check();

    for (const page of [a, b]) {
      await page.locator('#head', { hasText: 'A00' }).waitFor();
      await page.locator('#board li', { hasText: 'A01' }).waitFor();
      // A is being served, not waiting: one waits.
      await page.locator('#length', { hasText: /^1 waiting$/ }).waitFor();
    }
    await a.locator('#my-status', { hasText: 'It is your turn!' }).waitFor();
    expect(await a.title()).toBe('Your turn! · Queue · Agora');
    await b.locator('#my-status', { hasText: 'You are number 2 in the line.' }).waitFor();
    expect(await b.title()).toBe('#2 · Queue · Agora');
    expect(await b.locator('#claim').isDisabled()).toBe(true);
    expect(await b.evaluate(() => (window as unknown as { __shown: unknown[] }).__shown)).toEqual(
      [],
    );

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
    expect(await b.title()).toBe('Your turn! · Queue · Agora');
    expect(await b.evaluate(() => (window as unknown as { __shown: unknown[] }).__shown)).toEqual([
      { title: 'Your turn in the queue', body: 'Token A01: claim your kitty now.' },
    ]);
    expect(await b.locator('#board li').count()).toBe(0);
    expect(await b.locator('#claim').isEnabled()).toBe(true);
    await b.locator('#countdown', { hasText: /left to claim/ }).waitFor();

    // A puts the picture away: the token is used, the page says so and offers a new one.
    await a.getByRole('button', { name: 'Put the picture away' }).click();
    await a
      .locator('#ended-reason', { hasText: 'You claimed your kitty: that token is used.' })
      .waitFor();
    await take(a, 'A02');
    await a.locator('#my-status', { hasText: 'You are number 2 in the line.' }).waitFor();
    expect(errorsOf.get(a)?.unexpected()).toEqual([]);
    expect(errorsOf.get(b)?.unexpected()).toEqual([]);
  });

  it('explains an expiry and offers a new token', async () => {
    // A one-second claim window, so that an expiry is seen without waiting long.
    const quick = await buildTestApp({ config: { queue: { claim_window_s: 1, sweep_ms: 100 } } });
    onTestFinished(() => quick.close());
    const a = await open('', await listen(quick.app));
    await take(a, 'A00');
    await a.locator('#my-status', { hasText: 'It is your turn!' }).waitFor();
    // Nobody claims: the window passes, the sweep removes the token, the page hears it.
    await a
      .locator('#ended-reason', {
        hasText: 'Your turn passed without a claim, so your token expired.',
      })
      .waitFor({ timeout: 10_000 });
    expect(await a.locator('#ticket').isHidden()).toBe(true);
    expect(await a.title()).toBe('Queue · Agora');
    await take(a, 'A01');
  });

  it('shows the real position and wait of the 75th token, past the 64 codes of the board', async () => {
    await issueMany(74);
    const a = await open();
    await take(a, 'A74');
    await a
      .locator('#my-status', {
        hasText: /^You are number 75 in the line\. Your turn starts in .+ at the latest\.$/,
      })
      .waitFor();
    // 74 windows of 60 s ahead (a claim window each): at most 74 min.
    expect(await a.locator('#my-status').textContent()).toMatch(/in 1 h 1[34] min at the latest/);
    expect(await a.locator('#progress').getAttribute('value')).toBe('0');
    await a.locator('#length', { hasText: '74 waiting' }).waitFor();
    await a.locator('#rest', { hasText: '… and 10 more' }).waitFor();
    expect(await a.locator('#board li').count()).toBe(64);
    expect(await a.title()).toBe('#75 · Queue · Agora');
  });

  it('has a now-serving display for a waiting room, live', async () => {
    await issueMany(3);
    const screen = await open('#display');
    expect(await screen.locator('#main').isHidden()).toBe(true);
    await screen.locator('#display-head', { hasText: 'A00' }).waitFor();
    expect(await seriousViolations(screen)).toEqual([]);
    await screen.locator('#display-next', { hasText: 'A01  A02' }).waitFor();
    await screen.locator('#display-length', { hasText: '2 waiting' }).waitFor();
    await t.app.inject({ method: 'POST', url: '/queue/tokens' });
    await screen.locator('#display-next', { hasText: 'A01  A02  A03' }).waitFor();
    await screen.getByRole('link', { name: 'Back to the page' }).click();
    await screen.locator('#main').waitFor();
    expect(await screen.locator('#display').isHidden()).toBe(true);
    expect(errorsOf.get(screen)?.unexpected()).toEqual([]);
  });
});
