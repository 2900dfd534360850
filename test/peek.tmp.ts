import { buildTestApp, listen } from './helper.js';
import { launchBrowser } from './browser/chromium.js';
import { seriousViolations, overflowX, DESKTOP, PHONE } from './browser/audit.js';
import { setup } from './market/helpers.js';

const paths = (process.env.PAGES ?? '/market/').split(',');
const t = await buildTestApp();
await setup(t.app, true, 5);
const base = await listen(t.app);
const browser = await launchBrowser();
for (const [name, vp, scheme] of [
  ['desk', DESKTOP, 'light'],
  ['phone', PHONE, 'dark'],
] as const) {
  const ctx = await browser.newContext({ viewport: vp, colorScheme: scheme });
  const page = await ctx.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') console.log('CONSOLE', m.text());
  });
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  for (const p of paths) {
    await page.goto(base + p);
    await page.waitForTimeout(800);
    console.log(name, p, 'overflow', await overflowX(page));
    console.log(JSON.stringify(await seriousViolations(page), null, 1));
    await page.screenshot({
      path: `/tmp/shots/${name}${p.replace(/\W/g, '_')}.png`,
      fullPage: true,
    });
  }
  await ctx.close();
}
await browser.close();
await t.close();
