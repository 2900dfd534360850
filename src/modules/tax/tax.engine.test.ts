import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { computeTax, explainTax } from './tax.engine.js';
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

describe('tax explanation', () => {
  const taxpayerOf = (c: ClientResult) => ({
    married: c.married === 'yes',
    children: c.children,
    salary: c.salary,
  });

  it.each(expected)('explains reference case $id with the figures of its result', (c) => {
    const e = explainTax(ADMIN_DATA_2019, taxpayerOf(c));
    expect([e.tax, e.discount, e.reduction, e.marginal_rate]).toEqual([
      c.tax,
      c.discount,
      c.reduction,
      c.rate,
    ]);
    // The steps add up: the tax kept, less the discount and the reduction, is the tax.
    expect(e.tax_before_discount - e.discount - e.reduction).toBe(c.tax);
    expect(e.taxable_income + e.allowance).toBe(c.salary);
    expect(e.bracket.rate).toBe(c.rate);
    expect(e.quotient).toBeGreaterThanOrEqual(e.bracket.from);
    if (e.bracket.to !== null) expect(e.quotient).toBeLessThanOrEqual(e.bracket.to);
    expect(e.capped).toBe(c.surcharge > 0 && c.children > 0 ? true : e.capped);
    expect(e.steps.at(-1)).toBe(
      `Marginal rate ${String(Math.round(c.rate * 1000) / 10)} %. Tax: ${c.tax.toLocaleString('en')} €, ${String(Math.round((c.salary > 0 ? c.tax / c.salary : 0) * 1000) / 10)} % of the salary.`,
    );
  });

  it('spells out case 1 (a couple, 2 children, 55,555 €): 3 shares, the 14 % bracket, no cap', () => {
    const e = explainTax(ADMIN_DATA_2019, { married: true, children: 2, salary: 55555 });
    expect(e).toMatchObject({
      shares: 3,
      taxable_income: 49999,
      allowance: 5556,
      bracket: { from: 9964, to: 27519, rate: 0.14 },
      tax_with_all_shares: 2814,
      tax_with_capped_advantage: 1107,
      capped: false,
      tax_before_discount: 2814,
      tax: 2814,
    });
    expect(e.steps[0]).toBe('A couple with 2 children: 3 shares.');
    expect(e.steps).toContain(
      "The children's shares lower the tax by less than their cap of 1,551 € per half share: no cap.",
    );
  });

  it('spells out case 4 (one adult, 2 children, 100,000 €): the cap applies, with a surcharge', () => {
    const e = explainTax(ADMIN_DATA_2019, { married: false, children: 2, salary: 100000 });
    expect(e.capped).toBe(true);
    expect(e.tax_before_discount).toBe(e.tax_with_capped_advantage);
    expect(e.tax).toBe(19884);
    expect(e.steps.join(' ')).toContain('a surcharge of 4,480 €');
  });

  it('agrees with computeTax on any household', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 2_000_000 }),
        (married, children, salary) => {
          const taxpayer = { married, children, salary };
          const r = computeTax(ADMIN_DATA_2019, taxpayer);
          const e = explainTax(ADMIN_DATA_2019, taxpayer);
          expect([e.tax, e.discount, e.reduction, e.marginal_rate]).toEqual([
            r.tax,
            r.discount,
            r.reduction,
            r.rate,
          ]);
          expect(Math.floor(e.tax_before_discount - e.discount - e.reduction) + 0).toBe(r.tax);
          expect(e.bracket.rate).toBe(r.rate);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
