import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, dialects, type TestApp } from '../helper.js';
import { buy, createProduct, stockOf, updateProduct } from './helpers.js';

interface Ledger {
  amount: number;
  unit_price: number;
  status: string;
}

describe.each(dialects())('buying at the price the buyer saw (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
  });
  afterAll(async () => {
    await t.close();
  });

  const orders = (productId: number): Promise<Ledger[]> =>
    t.app.db
      .withTables<{ market_orders: Ledger & { product_id: number } }>()
      .selectFrom('market_orders')
      .select(['amount', 'unit_price', 'status'])
      .where('product_id', '=', productId)
      .execute();

  it('buys at the expected price', async () => {
    const p = await createProduct(t.app, { price: 25, stock: 5 });
    const res = await buy(t.app, p.id, 2, { expectedPrice: 25 });
    expect(res.json()).toMatchObject({ data: { cost: 50, status: 'Success' } });
    expect(await stockOf(t.app, p.id)).toBe(3);
  });

  it('refuses with 409 and the price now when the price changed, and sells nothing', async () => {
    const p = await createProduct(t.app, { price: 25, stock: 5 });
    await updateProduct(t.app, p.id, p.description, 99);
    const res = await buy(t.app, p.id, 1, { expectedPrice: 25, key: `repriced-${p.id}` });
    expect(res.statusCode).toBe(409);
    const body = res.json<{ error: string; exe_id: string; price: number }>();
    expect(body.price).toBe(99);
    expect(body.error).toBe('the price changed: it is 99 now, not 25; nothing was bought');
    expect(body.exe_id).toBe(res.headers['x-request-id']);
    expect(await stockOf(t.app, p.id)).toBe(5);
    expect(await orders(p.id)).toEqual([]);

    // Confirmed at the new price, with the same key: the key was left free, and it buys.
    const confirmed = await buy(t.app, p.id, 1, { expectedPrice: 99, key: `repriced-${p.id}` });
    expect(confirmed.json()).toMatchObject({ data: { cost: 99, status: 'Success' } });
    expect(await orders(p.id)).toEqual([{ amount: 1, unit_price: 99, status: 'Success' }]);
  });

  it('still answers the contract failure for missing stock at the right price', async () => {
    const p = await createProduct(t.app, { price: 7, stock: 1 });
    const res = await buy(t.app, p.id, 2, { expectedPrice: 7 });
    expect(res.json()).toMatchObject({
      data: { cost: 0, status: 'Failure (insufficent quantity)' },
    });
  });

  it('rejects an expected price that is not a non-negative integer', async () => {
    const p = await createProduct(t.app, { price: 7, stock: 1 });
    for (const bad of [-1, 2.5, '7', true, 100_000_001]) {
      const res = await buy(t.app, p.id, 1, { expectedPrice: bad });
      expect(res.statusCode).toBe(400);
      expect(res.json<{ error: string }>().error).toBe(
        '`expected_price` value should be an integer from 0 to 100000000',
      );
    }
    expect(await stockOf(t.app, p.id)).toBe(1);
  });
});
