/** Launches Debian's Chromium through playwright-core with the flags this environment needs. */
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_PATH } from '../services.js';

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}
