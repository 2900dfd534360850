import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { browserAvailable, buildTestApp, listen, type TestApp } from '../helper.js';
import { jpeg, png } from '../images/fixtures.js';
import { consoleErrors, PHONE, seriousViolations } from './audit.js';
import { launchBrowser } from './chromium.js';
import { imagesModule } from '../../src/modules/images/index.js';

/** Stores a JPEG of this size under this name, through the API. */
const storeJpeg = async (t: TestApp, name: string, width: number, height: number) =>
  t.app.inject({
    method: 'POST',
    url: '/images',
    headers: { 'content-type': 'image/jpeg', 'x-filename': name },
    payload: await jpeg(width, height),
  });

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

  /** A page, and every image URL it asked for. */
  async function open(viewport?: {
    width: number;
    height: number;
  }): Promise<{ page: Page; asked: string[]; errors: ReturnType<typeof consoleErrors> }> {
    const context = await browser.newContext({
      locale: 'en-US',
      ...(viewport ? { viewport } : {}),
    });
    const page = await context.newPage();
    onTestFinished(() => context.close());
    const asked: string[] = [];
    const errors = consoleErrors(page);
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/images/')) asked.push(r.url());
    });
    await page.goto(`${base}/images/`);
    await page.locator('#grid[data-ready]').waitFor({ state: 'attached' });
    return { page, asked, errors };
  }
  /** Whether `url` is an original (`/images/<id>`, no extension, no parameters). */
  const isOriginal = (url: string): boolean =>
    /^\/images\/[A-Za-z0-9_-]+$/.test(new URL(url).pathname + new URL(url).search);

  it('uploads with the keyboard alone, with progress, and says why a text file is refused', async () => {
    const { page, asked, errors } = await open();
    await page.keyboard.press('Tab'); // skip link
    for (let i = 0; i < 20; i++) {
      if ((await page.evaluate(() => document.activeElement?.id)) === 'pick') break;
      await page.keyboard.press('Tab');
    }
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('pick');
    // Waiting for the chooser turns on its interception: before any key, so none races it.
    const opened = page.waitForEvent('filechooser');
    await page.getByLabel('Album (optional)').fill('holiday');
    await page.locator('#pick').focus();
    await page.keyboard.press('Enter');
    const chooser = await opened;
    await chooser.setFiles([
      { name: 'wide.jpg', mimeType: 'image/jpeg', buffer: await jpeg(640, 480) },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') },
      { name: 'square.png', mimeType: 'image/png', buffer: await png(300, 300) },
    ]);
    await page.locator('#status', { hasText: 'Stored 2 images. 1 refused: see above.' }).waitFor();
    const rows = page.locator('#uploads li');
    expect(await rows.nth(1).textContent()).toContain('skipped: not an image');
    for (const i of [0, 2]) {
      expect(await rows.nth(i).textContent()).toContain('stored');
      expect(
        await rows
          .nth(i)
          .locator('progress')
          .evaluate((p) => (p as HTMLProgressElement).value),
      ).toBe(1);
    }
    // Thumbnails are derivatives, loaded and decoded; no original was fetched.
    await page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLImageElement>('#grid img')].every(
        (img) => img.complete && img.naturalWidth > 0,
      ),
    );
    expect(await page.locator('#grid img').count()).toBe(2);
    for (const src of await page
      .locator('#grid img')
      .evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).currentSrc)))
      expect(src).toMatch(/\.webp\?w=(320|640)&h=\1&fit=cover$/);
    expect(asked.filter(isOriginal)).toEqual([]);

    // The album filter shows the album's images only.
    await page.getByLabel('Show album').fill('holiday');
    await page.locator('#grid li').nth(1).waitFor();
    await page.getByLabel('Show album').fill('work');
    await page.locator('#empty:not([hidden])').waitFor();
    expect(errors.unexpected()).toEqual([]);
  });

  it('edits with every operation, shows the URL, size and time, and says what cannot be made', async () => {
    const { page, asked, errors } = await open();
    await page.locator('#grid button').first().waitFor();
    await page.locator('#grid button[title="wide.jpg"]').click();
    const dialog = page.getByRole('dialog', { name: 'wide.jpg' });
    await dialog.waitFor();
    await dialog.locator('#render-info', { hasText: /ms\.$/ }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await dialog.getByLabel('Format').selectOption('webp');
    await dialog.getByLabel('Width', { exact: true }).fill('200');
    await dialog.getByLabel('Grayscale').check();
    await dialog.getByLabel('Rotate').selectOption('90');
    await dialog.getByLabel('Mask').selectOption('circle');
    await dialog.getByLabel('Quality').fill('60');
    const url = dialog.locator('#url');
    await page.waitForFunction(() =>
      (document.querySelector<HTMLInputElement>('#url')?.value ?? '').endsWith(
        '?w=200&rotate=90&grayscale=true&mask=circle&quality=60',
      ),
    );
    expect(await url.inputValue()).toMatch(
      new RegExp(
        `^${base}/images/[A-Za-z0-9_-]+\\.webp\\?w=200&rotate=90&grayscale=true&mask=circle&quality=60$`,
      ),
    );
    await dialog
      .locator('#render-info', { hasText: /^WEBP, .+ of the original's .+, rendered in \d+ ms\.$/ })
      .waitFor();
    // The preview is that URL's image: 200 wide, turned: 150 × 200.
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('#detail-img');
      return img !== null && img.complete && img.naturalWidth === 150 && img.naturalHeight === 200;
    });
    const served = await fetch(await url.inputValue());
    expect(await sharp(Buffer.from(await served.arrayBuffer())).metadata()).toMatchObject({
      format: 'webp',
      width: 150,
      height: 200,
    });
    expect(await dialog.locator('#download').getAttribute('href')).toBe(
      new URL(await url.inputValue()).pathname + new URL(await url.inputValue()).search,
    );

    // A blur the engine refuses: its message, and no broken image.
    await dialog.getByLabel('Blur (sigma)').fill('500');
    await dialog
      .locator('#render-error', { hasText: /^This version cannot be made: .*blur/ })
      .waitFor();
    expect(await dialog.locator('#detail-img').isHidden()).toBe(true);
    await dialog.getByLabel('Blur (sigma)').fill('2');
    await dialog.locator('#render-error:empty').waitFor({ state: 'attached' });
    await dialog.locator('#detail-img:not([hidden])').waitFor();
    expect(asked.filter(isOriginal)).toEqual([]);
    // The refused blur's 400 is the only error.
    expect(errors.unexpected(400)).toEqual([]);
  });

  it('previews a large photo on a phone from a derivative the size of the screen, in a dialog that fits', async () => {
    expect((await storeJpeg(t, 'big.jpg', 4000, 3000)).statusCode).toBe(201);
    const { page, asked } = await open(PHONE);
    await page.locator('#grid button[title="big.jpg"]').click();
    await page.locator('#render-info', { hasText: /^Preview 390 px wide: JPEG/ }).waitFor();
    const natural = await page
      .locator('#detail-img')
      .evaluate((img) => (img as HTMLImageElement).naturalWidth);
    expect(natural).toBe(390);
    expect(asked.filter(isOriginal)).toEqual([]);
    expect(asked.some((u) => u.includes('w=390'))).toBe(true);
    const box = await page.locator('#detail').boundingBox();
    expect(box).not.toBeNull();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width);
    expect(box!.y + box!.height).toBeLessThanOrEqual(PHONE.height);
  });

  it('deletes an image after confirmation (an administrator on this machine)', async () => {
    const { page } = await open();
    const tile = page.locator('#grid button[title="square.png"]');
    const id = await tile.getAttribute('data-id');
    await tile.click();
    await page.getByRole('button', { name: 'Delete…' }).click();
    await page
      .getByRole('dialog', { name: 'Delete square.png?' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await page.locator('#status', { hasText: 'square.png deleted.' }).waitFor();
    await tile.waitFor({ state: 'detached' });
    expect((await t.app.inject({ url: `/images/${String(id)}/meta` })).statusCode).toBe(404);
  });
});

describe.runIf(browserAvailable())('images gallery on a server that signs its URLs', () => {
  it('shows the signed previews the server lists, and says what the editor cannot make', async () => {
    const t = await buildTestApp({
      config: { images: { signing_key: 'browser-test-key' } },
      build: { modules: [imagesModule] },
    });
    const browser = await launchBrowser();
    try {
      const base = await listen(t.app);
      expect((await storeJpeg(t, 'signed.jpg', 800, 600)).statusCode).toBe(201);
      const context = await browser.newContext({ locale: 'en-US' });
      const page = await context.newPage();
      const errors = consoleErrors(page);
      await page.goto(`${base}/images/`);
      await page.waitForFunction(() => {
        const imgs = [...document.querySelectorAll<HTMLImageElement>('#grid img')];
        return imgs.length === 1 && imgs.every((img) => img.complete && img.naturalWidth > 0);
      });
      expect(
        await page.locator('#grid img').evaluate((i) => (i as HTMLImageElement).currentSrc),
      ).toMatch(/\.webp\?w=(320|640)&h=\1&fit=cover&sig=[A-Za-z0-9_-]+$/);
      await page.locator('#grid button[title="signed.jpg"]').click();
      const dialog = page.getByRole('dialog', { name: 'signed.jpg' });
      await dialog
        .locator('#render-error', { hasText: 'This server signs its image URLs' })
        .waitFor();
      await page.waitForFunction(() => {
        const img = document.querySelector<HTMLImageElement>('#detail-img');
        return img !== null && !img.hidden && img.complete && img.naturalWidth === 640;
      });
      expect(await seriousViolations(page)).toEqual([]);
      expect(errors.unexpected()).toEqual([]);
      await context.close();
    } finally {
      await browser.close();
      await t.close();
    }
  });
});
