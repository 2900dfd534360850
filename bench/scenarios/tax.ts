/** Tax scenarios: the eleven reference requests in rotation with Basic auth, and the bare engine. */
import { readFileSync } from 'node:fs';
import { computeTax } from '../../src/modules/tax/index.js';
import { ADMIN_DATA_2019 } from '../../src/modules/tax/tax.admin-data.js';
import type { Scenario } from './types.js';
import type { ClientResult } from '../../src/modules/tax/tax.client.js';

const CASES = JSON.parse(
  readFileSync(new URL('../../test/fixtures/tax/expected.json', import.meta.url), 'utf8'),
) as ClientResult[];
const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;

/** Taxpayers per second through the pure engine, on one core. */
function engine(): Promise<Record<string, number>> {
  const taxpayers = CASES.map((c) => ({
    married: c.married === 'yes',
    children: c.children,
    salary: c.salary,
  }));
  let sink = 0;
  const run = (n: number): number => {
    const start = performance.now();
    for (let i = 0; i < n; i += taxpayers.length) {
      for (const taxpayer of taxpayers) sink += computeTax(ADMIN_DATA_2019, taxpayer).tax;
    }
    return performance.now() - start;
  };
  run(200_000); // warm-up
  const n = 2_000_000;
  const ms = run(n);
  return Promise.resolve({ taxpayers_per_s: Math.round((n / ms) * 1000), checksum: sink % 1000 });
}

export const taxScenarios: Scenario[] = [
  {
    kind: 'http',
    name: 'tax: GET /tax/?… (Basic auth, 11 cases)',
    target: 'agora',
    path: '/tax/',
    paths: CASES.map((c) => `/tax/?married=${c.married}&children=${c.children}&salary=${c.salary}`),
    headers: { authorization: AUTH },
  },
  { kind: 'custom', name: 'tax: bare engine (in-process)', run: engine },
];
