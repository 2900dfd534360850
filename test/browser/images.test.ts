import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, buildTestApp, listen, type TestApp } from '../helper.js';
import { jpeg, png } from '../images/fixtures.js';
import { launchBrowser } from './chromium.js';
import { imagesModule } from '../../src/modules/images/index.js';

describe.runIf(browserAvailable())('images gallery in a real browser', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  beforeAll(async () => {
    t = await buildTestApp({ build: { modules: [imagesModule] } });
    base = await listen(t.app);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser.close();
    await t.close();
  });

  it('uploads two files, shows both thumbnails, and shows the picked format and width', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/images/`);
    await page.locator('#files').setInputFiles([
      { name: 'wide.jpg', mimeType: 'image/jpeg', buffer: await jpeg(640, 480) },
      { name: 'square.png', mimeType: 'image/png', buffer: await png(300, 300) },
    ]);
    await page.locator('#status', { hasText: 'Stored 2 images.' }).waitFor();
    const thumbs = page.locator('#grid img');
    expect(await thumbs.count()).toBe(2);
    // Both thumbnails really loaded (decoded by the browser).
    await page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLImageElement>('#grid img')].every(
        (img) => img.complete && img.naturalWidth > 0,
      ),
    );

    await page.locator('#grid button[title="wide.jpg"]').click();
    await page.locator('#format').selectOption('webp');
    await page.locator('#width').fill('200');
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('#detail-img');
      return (
        img !== null && img.src.includes('.webp?w=200') && img.complete && img.naturalWidth === 200
      );
    });
    const url = await page.locator('#url').inputValue();
    expect(url).toMatch(new RegExp(`^${base}/images/[A-Za-z0-9_-]+\\.webp\\?w=200$`));
    const shown = await page.evaluate(async (u) => {
      const res = await fetch(u);
      return {
        type: res.headers.get('content-type'),
        bytes: [...new Uint8Array(await res.arrayBuffer())],
      };
    }, url);
    expect(shown.type).toBe('image/webp');
    expect(await sharp(Buffer.from(shown.bytes)).metadata()).toMatchObject({
      format: 'webp',
      width: 200,
      height: 150,
    });
    await page.close();
  });
});
