/** What every page is checked for: axe-core's serious and critical findings, sideways scrolling. */
import axe from 'axe-core';
import type { Page } from 'playwright-core';

export interface Finding {
  id: string;
  impact: string;
  help: string;
  nodes: string[];
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<Finding[]> {
  await page.addScriptTag({ content: axe.source });
  return page.evaluate(async () => {
    const run = (window as unknown as { axe: typeof axe }).axe.run;
    const result = await run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({
        id: v.id,
        impact: v.impact ?? '',
        help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
      }));
  });
}

/** How many CSS pixels the page is wider than its viewport (0: no sideways scrolling). */
export function overflowX(page: Page): Promise<number> {
  return page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/**
 * Collects the page's console errors and uncaught exceptions from now on. Chromium also logs
 * every 4xx or 5xx answer as an error: `expected` lists the statuses a flow provokes on purpose.
 */
export function consoleErrors(page: Page): { unexpected(...expected: number[]): string[] } {
  const seen: string[] = [];
  page.on('pageerror', (e) => seen.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') seen.push(m.text());
  });
  return {
    unexpected: (...expected) =>
      seen.filter((e) => !expected.some((status) => e.includes(`status of ${String(status)}`))),
  };
}
