/**
 * `npm run bench:pages`: how fast each console page paints, in Debian's Chromium, against Agora
 * on the embedded defaults. Each page is loaded BENCH_PAGE_RUNS times (default 7) in a fresh
 * browser context (no cache), and the median first contentful paint is reported, with the
 * JavaScript each load transferred. The ceiling, measured in the same run, is a minimal static
 * page (one heading, no script) served by bare node:http: what this browser and machine need to
 * paint anything at all.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../test/browser/chromium.js';
import { startAgora } from './server.js';

const runs = Number(process.env.BENCH_PAGE_RUNS ?? 7);
const PAGES = ['/', '/market/', '/queue/', '/numbers/', '/images/', '/tax/', '/docs'];

interface Load {
  fcp: number;
  jsBytes: number;
}

async function load(browser: Browser, url: string): Promise<Load> {
  const context = await browser.newContext();
  const page = await context.newPage();
  let jsBytes = 0;
  page.on('response', (res) => {
    if (res.request().resourceType() === 'script')
      jsBytes += Number(res.headers()['content-length'] ?? 0);
  });
  await page.goto(url, { waitUntil: 'load' });
  const fcp = await page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const seen = performance.getEntriesByName('first-contentful-paint')[0];
        if (seen) {
          resolve(seen.startTime);
          return;
        }
        new PerformanceObserver((list) => {
          const entry = list.getEntriesByName('first-contentful-paint')[0];
          if (entry) resolve(entry.startTime);
        }).observe({ type: 'paint', buffered: true });
      }),
  );
  await context.close();
  return { fcp, jsBytes };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

async function measure(browser: Browser, url: string): Promise<{ fcp: number; js: number }> {
  const loads: Load[] = [];
  await load(browser, url); // warm-up: the server's first answer, the browser's first start
  for (let i = 0; i < runs; i++) loads.push(await load(browser, url));
  return { fcp: median(loads.map((l) => l.fcp)), js: median(loads.map((l) => l.jsBytes)) };
}

function ceiling(): Promise<{ url: string; close: () => void }> {
  const html =
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ceiling</title></head>' +
    '<body><h1>Ceiling</h1></body></html>';
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({ url: `http://127.0.0.1:${String(port)}/`, close: () => server.close() });
    });
  });
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'agora-bench-pages-'));
const agora = await startAgora(dataDir);
const browser = await launchBrowser();
const bare = await ceiling();
try {
  const floor = await measure(browser, bare.url);
  console.log(`ceiling (static page, node:http): first paint ${floor.fcp.toFixed(0)} ms`);
  console.log('page        first paint   × ceiling   JS (gzip, transferred)');
  for (const p of PAGES) {
    const m = await measure(browser, `${agora.url}${p}`);
    console.log(
      `${p.padEnd(11)} ${`${m.fcp.toFixed(0)} ms`.padStart(11)}   ${(m.fcp / floor.fcp).toFixed(2).padStart(9)}   ${(m.js / 1024).toFixed(1)} KB`,
    );
  }
} finally {
  bare.close();
  await browser.close();
  await agora.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
