import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { hashPassword } from '../../src/modules/tax/tax.auth.js';
import { browserAvailable, buildTestApp, listen, type TestApp } from '../helper.js';
import { consoleErrors, seriousViolations } from './audit.js';
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

  async function open(at = base): Promise<Page> {
    const page = await browser.newPage({ locale: 'en-US' });
    onTestFinished(() => page.close());
    errorsOf.set(page, consoleErrors(page));
    await page.goto(`${at}/tax/`);
    return page;
  }
  const errorsOf = new Map<Page, ReturnType<typeof consoleErrors>>();
  const compute = (page: Page): Promise<void> =>
    page.getByRole('button', { name: 'Compute' }).click();

  it('computes a household with every step explained, and marks the result stale when an input changes', async () => {
    const page = await open();
    await page.locator('#demo-hint', { hasText: 'Demo account: admin / admin' }).waitFor();
    await page.getByLabel('Married or in a civil partnership').check();
    await page.getByLabel('Children').fill('3');
    await page.getByLabel('Yearly salary (€)').fill('200000');
    await page.getByLabel('Password').fill('admin');
    await compute(page);
    await page.locator('#result:not([hidden])').waitFor();
    expect(await page.locator('#tax').textContent()).toBe('€42,842.00');
    expect(await page.locator('#rate').textContent()).toBe('41%');
    expect(await page.locator('#surcharge').textContent()).toBe('€17,283.00');
    expect(await page.locator('#shares').textContent()).toBe('4');
    expect(await page.locator('#taxable').textContent()).toBe('€187,498.00'); // 200,000 less the allowance's maximum, 12,502
    const steps = await page.locator('#steps li').allTextContents();
    expect(steps[0]).toBe('A couple with 3 children: 4 shares.');
    expect(steps.at(-1)).toBe('Marginal rate 41 %. Tax: 42,842 €, 21.4 % of the salary.');
    expect(await page.locator('#stale').isHidden()).toBe(true);

    await page.getByLabel('Yearly salary (€)').fill('150000');
    await page.locator('#stale:not([hidden])').waitFor();
    expect(await page.locator('#result').getAttribute('data-stale')).toBe('');
    await compute(page);
    await page.locator('#stale[hidden]').waitFor({ state: 'attached' });
    expect(await page.locator('#result').getAttribute('data-stale')).toBeNull();
    expect(await seriousViolations(page)).toEqual([]);
    expect(errorsOf.get(page)?.unexpected()).toEqual([]);
  });

  it("shows the server's own message for what the browser would have let through", async () => {
    const page = await open();
    await page.getByLabel('Yearly salary (€)').fill('12a34');
    await page.getByLabel('Password').fill('admin');
    await compute(page);
    const error = page.locator('#salary-error');
    await error.filter({ hasText: /^salary must be a non-negative integer/ }).waitFor();
    expect(await page.getByLabel('Yearly salary (€)').getAttribute('aria-invalid')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('salary');
    expect(await page.locator('#result').isHidden()).toBe(true);
    expect(errorsOf.get(page)?.unexpected(400)).toEqual([]);
  });

  it('tells missing credentials from wrong ones', async () => {
    const page = await open();
    await page.locator('#demo-hint:not([hidden])').waitFor();
    await page.getByLabel('User').fill('');
    await compute(page);
    await page.locator('#auth-error', { hasText: 'authentication required' }).waitFor();
    await page.getByLabel('User').fill('admin');
    await page.getByLabel('Password').fill('wrong');
    await compute(page);
    await page.locator('#auth-error', { hasText: 'wrong user name or password' }).waitFor();
    expect(await page.locator('#result').isHidden()).toBe(true);
    expect(errorsOf.get(page)?.unexpected(401)).toEqual([]);
  });

  it('hints no demo account once users are configured', async () => {
    const own = await buildTestApp({
      config: { tax: { users: { alice: await hashPassword('wonderland') } } },
    });
    onTestFinished(() => own.close());
    const page = await open(await listen(own.app));
    await page.getByLabel('User').fill('alice');
    await page.getByLabel('Password').fill('wonderland');
    await compute(page);
    await page.locator('#result:not([hidden])').waitFor();
    expect(await page.locator('#demo-hint').isHidden()).toBe(true);
    expect(await page.locator('#demo-hint').textContent()).toBe('');
  });
});
