import { buildTestApp, listen } from './helper.js';
import { launchBrowser } from './browser/chromium.js';
const t = await buildTestApp();
const base = await listen(t.app);
const browser = await launchBrowser();
const page = await (await browser.newContext()).newPage();
page.on('console', (m) => console.log('CONSOLE', m.type(), m.text()));
page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
await page.goto(`${base}/queue/`);
await page.waitForTimeout(1000);
console.log(await page.locator('#live').textContent(), await page.locator('#length').textContent());
await page.getByRole('button', { name: /Take a (new )?token/ }).click();
await page.waitForTimeout(1000);
console.log(
  await page.locator('#my-token').textContent(),
  await page.locator('#my-status').textContent(),
  await page.locator('#length').textContent(),
);
await page.screenshot({ path: '/tmp/shots/q.png', fullPage: true });
await browser.close();
await t.close();
