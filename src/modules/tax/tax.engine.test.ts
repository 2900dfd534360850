import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeTax } from './tax.engine.js';
import { ADMIN_DATA_2019 } from './tax.admin-data.js';
import type { ClientResult } from './tax.client.js';

const expected = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/tax/expected.json', import.meta.url), 'utf8'),
) as ClientResult[];

describe('tax engine', () => {
  it.each(expected)('reproduces reference case $id exactly', (c) => {
    const result = computeTax(ADMIN_DATA_2019, {
      married: c.married === 'yes',
      children: c.children,
      salary: c.salary,
    });
    expect(result).toEqual({
      tax: c.tax,
      surcharge: c.surcharge,
      rate: c.rate,
      discount: c.discount,
      reduction: c.reduction,
    });
  });

  it('has all eleven reference cases to check', () => {
    expect(expected.map((c) => c.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('owes nothing on no salary', () => {
    expect(computeTax(ADMIN_DATA_2019, { married: false, children: 0, salary: 0 })).toEqual({
      tax: 0,
      surcharge: 0,
      rate: 0,
      discount: 0,
      reduction: 0,
    });
  });
});
