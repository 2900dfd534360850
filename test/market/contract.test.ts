import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helper.js';
import { buy, CARD, createProduct, setup, stockOf } from './helpers.js';
import type { TablesOf } from '../../src/core/db/tables.js';
import type { MarketTables } from '../../src/modules/market/market.tables.js';

let t: TestApp;
/** The app's database with the market module's tables. */
const db = () => t.app.db.withTables<TablesOf<MarketTables>>();
beforeAll(async () => {
  // setup() writes through a service of its own, as `agora market setup` does from another
  // process: without the read cache, every read here shows the database at once.
  t = await buildTestApp({ config: { market: { read_cache_ms: 0 } } });
});
afterAll(async () => {
  await t.close();
});

interface Env<T> {
  data: T;
  exe_id: string;
}
interface Err {
  error: string;
  exe_id: string;
}

describe("the original client's run", () => {
  beforeEach(async () => {
    await setup(t.app, true, 2);
  });

  it('setup reset 2; query 1; buy 2×2; buy 3×3; replenish 4 by 3; two buys of 2×6 at once', async () => {
    const q1 = await t.app.inject({ url: '/market/query/1' });
    expect(q1.statusCode).toBe(200);
    expect(q1.json<Env<unknown>>().data).toEqual({
      id: 1,
      description: 'apple',
      price: 10,
      quantity: 2,
    });

    const b2 = await buy(t.app, 2, 2);
    expect(b2.json<Env<unknown>>().data).toEqual({ cost: 30, status: 'Success' });
    expect(await stockOf(t.app, 2)).toBe(0);

    const b3 = await buy(t.app, 3, 3);
    expect(b3.statusCode).toBe(200);
    expect(b3.json<Env<unknown>>().data).toEqual({
      cost: 0,
      status: 'Failure (insufficent quantity)',
    });
    expect(await stockOf(t.app, 3)).toBe(2);

    const r4 = await t.app.inject({
      method: 'PUT',
      url: '/market/replenish/4',
      payload: { amount: 3 },
    });
    expect(r4.json<Env<unknown>>().data).toEqual({ quantity: 5, status: 'Success' });

    const [x, y] = await Promise.all([buy(t.app, 6, 2), buy(t.app, 6, 2)]);
    const statuses = [x, y].map((r) => r.json<Env<{ status: string }>>().data.status).sort();
    expect(statuses).toEqual(['Failure (insufficent quantity)', 'Success']);
    expect(await stockOf(t.app, 6)).toBe(0);
  });

  it('setup without reset only adds missing seeds; an amount restocks every seed', async () => {
    await t.app.inject({ method: 'DELETE', url: '/product/3' });
    await setup(t.app, false);
    const list = (await t.app.inject({ url: '/product/' })).json<
      Env<{ id: number; description: string }[]>
    >().data;
    expect(list.map((p) => p.description).sort()).toEqual(
      [
        'apple',
        'banana',
        'beef',
        'beer',
        'chocolate',
        'milk',
        'milk tea',
        'orange',
        'vegetable',
        'water',
      ].sort(),
    );
    expect(list.find((p) => p.description === 'orange')?.id).toBe(11);
    await setup(t.app, false, 7);
    expect(await stockOf(t.app, 1)).toBe(7);
    await setup(t.app, true);
    const reset = (await t.app.inject({ url: '/product' })).json<Env<{ id: number }[]>>().data;
    expect(reset.map((p) => p.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe('envelopes and request ids', () => {
  it('wraps successes in {data, exe_id} and errors in {error, exe_id}, with X-Request-Id', async () => {
    const ok = await t.app.inject({ url: '/product/' });
    expect(ok.json<Env<unknown>>().exe_id).toBe(ok.headers['x-request-id']);
    for (const [method, url] of [
      ['GET', '/market/query/999999'],
      ['GET', '/market/nothing-here'],
      ['DELETE', '/market/buy/1'],
      ['GET', '/product/999999'],
      ['PATCH', '/product/1'],
    ] as const) {
      const res = await t.app.inject({ method, url });
      expect(res.headers['content-type'], url).toMatch(/^application\/json/);
      const body = res.json<Err>();
      expect(Object.keys(body).sort()).toEqual(['error', 'exe_id']);
      expect(body.exe_id).toBe(res.headers['x-request-id']);
    }
  });

  it('gives each request its own exe_id and reuses a well-formed incoming X-Request-Id', async () => {
    const a = (await t.app.inject({ url: '/product/' })).json<Env<unknown>>().exe_id;
    const b = (await t.app.inject({ url: '/product/' })).json<Env<unknown>>().exe_id;
    expect(a).not.toBe(b);
    const c = await t.app.inject({
      url: '/product/',
      headers: { 'x-request-id': 'client-trace-42' },
    });
    expect(c.json<Env<unknown>>().exe_id).toBe('client-trace-42');
  });

  it('answers /product without the trailing slash directly', async () => {
    const res = await t.app.inject({ url: '/product' });
    expect(res.statusCode).toBe(200);
  });
});

describe('market routes', () => {
  it('shows administrators the orders ledger, newest first, paged, with only 4 card digits', async () => {
    const p = await createProduct(t.app, { price: 3, stock: 2 });
    await buy(t.app, p.id, 2, { card: '1111222233334444' });
    await buy(t.app, p.id, 1, { card: '5555666677778888' });
    const res = await t.app.inject({ url: '/market/orders?limit=2' });
    const orders = res.json<Env<Record<string, unknown>[]>>().data;
    expect(orders.map((o) => [o.product_id, o.amount, o.cost, o.status, o.card_last4])).toEqual([
      [p.id, 1, 0, 'Failure', '8888'],
      [p.id, 2, 6, 'Success', '4444'],
    ]);
    expect(JSON.stringify(orders)).not.toContain('11112222');
    const older = await t.app.inject({
      url: `/market/orders?limit=1&before=${String(orders[1]!.id)}`,
    });
    expect(
      older.json<Env<{ id: number }[]>>().data.every((o) => o.id < Number(orders[1]!.id)),
    ).toBe(true);
    // Not for anyone else: a remote client without the admin token is refused.
    const remote = await t.app.inject({ url: '/market/orders', remoteAddress: '10.1.2.3' });
    expect(remote.statusCode).toBe(403);
    expect(remote.json()).toEqual({ error: expect.any(String), exe_id: expect.any(String) });
    const bad = await t.app.inject({ url: '/market/orders?limit=0' });
    expect(bad.statusCode).toBe(400);
  });

  it('lists every product with its stock and the currency for the web page', async () => {
    await setup(t.app, true, 4);
    const res = await t.app.inject({ url: '/market/products' });
    const body = res.json<Env<{ id: number; quantity: number }[]> & { currency: string }>();
    expect(body.currency).toBe('EUR');
    expect(body.data.map((p) => p.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(body.data[0]).toEqual({ id: 1, description: 'apple', price: 10, quantity: 4 });
    expect(body.exe_id).toBe(res.headers['x-request-id']);
  });

  it('404s unknown products with the contract messages', async () => {
    expect((await t.app.inject({ url: '/market/query/424242' })).json<Err>().error).toBe(
      'not found product with id=424242',
    );
    expect((await buy(t.app, 424242, 1)).json<Err>().error).toBe(
      'not found product with id=424242',
    );
    const r = await t.app.inject({
      method: 'PUT',
      url: '/market/replenish/424242',
      payload: { amount: 1 },
    });
    expect([r.statusCode, r.json<Err>().error]).toEqual([404, 'not found product with id=424242']);
    expect((await t.app.inject({ url: '/market/query/abc' })).json<Err>().error).toBe(
      'not found product with id=abc',
    );
  });

  it('validates buy bodies in the contract order with its messages', async () => {
    const p = await createProduct(t.app, { stock: 5 });
    const cases: [unknown, string][] = [
      [undefined, 'insufficient arguments'],
      [{}, 'insufficient arguments'],
      [{ credit_card: CARD }, 'lack of `amount` argument'],
      [{ amount: '2', credit_card: CARD }, '`amount` value should be an integer'],
      [{ amount: 1.5, credit_card: CARD }, '`amount` value should be an integer'],
      [{ amount: true, credit_card: CARD }, '`amount` value should be an integer'],
      [{ amount: 0, credit_card: CARD }, '`amount` value should be a positive integer'],
      [{ amount: -3, credit_card: CARD }, '`amount` value should be a positive integer'],
      [{ amount: 1 }, 'lack of `credit_card` argument'],
      [
        { amount: 1, credit_card: 4242424242424242 },
        '`credit_card` value should be 16 length of digits',
      ],
      [
        { amount: 1, credit_card: '424242424242424' },
        '`credit_card` value should be 16 length of digits',
      ],
      [
        { amount: 1, credit_card: '4242-4242-4242-42' },
        '`credit_card` value should be 16 length of digits',
      ],
    ];
    for (const [payload, message] of cases) {
      const res = await t.app.inject({
        method: 'POST',
        url: `/market/buy/${p.id}`,
        headers: { 'content-type': 'application/json' },
        payload: payload === undefined ? '' : JSON.stringify(payload),
      });
      expect([res.statusCode, res.json<Err>().error], JSON.stringify(payload)).toEqual([
        400,
        message,
      ]);
    }
    expect(await stockOf(t.app, p.id)).toBe(5);
  });

  it('accepts JSON whatever the Content-Type says', async () => {
    const p = await createProduct(t.app, { price: 7, stock: 3 });
    for (const type of [
      'text/plain',
      'application/octet-stream',
      'application/x-www-form-urlencoded',
    ]) {
      const res = await t.app.inject({
        method: 'POST',
        url: `/market/buy/${p.id}`,
        headers: { 'content-type': type },
        payload: JSON.stringify({ amount: 1, credit_card: CARD }),
      });
      expect(res.json<Env<unknown>>().data, type).toEqual({ cost: 7, status: 'Success' });
    }
  });

  it('validates replenish bodies and bounds the stock', async () => {
    const p = await createProduct(t.app);
    const bad = await t.app.inject({
      method: 'PUT',
      url: `/market/replenish/${p.id}`,
      payload: { amount: -1 },
    });
    expect(bad.json<Err>().error).toBe('`amount` value should be a positive integer');
    const missing = await t.app.inject({
      method: 'PUT',
      url: `/market/replenish/${p.id}`,
      payload: { count: 1 },
    });
    expect(missing.json<Err>().error).toBe('lack of `amount` argument');
    for (let i = 0; i < 1000; i++) {
      const r = await t.app.inject({
        method: 'PUT',
        url: `/market/replenish/${p.id}`,
        payload: { amount: 1_000_000 },
      });
      if (r.statusCode !== 200) {
        expect([r.statusCode, r.json<Err>().error]).toEqual([
          400,
          'stock cannot exceed 1000000000',
        ]);
        break;
      }
    }
    expect(await stockOf(t.app, p.id)).toBe(1_000_000_000);
  });
});

describe('product routes', () => {
  it('creates with stock 0, reads, updates and deletes', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/product/',
      payload: { description: 'kiwi', price: 4 },
    });
    const product = created.json<Env<{ id: number; description: string; price: number }>>().data;
    expect(product).toMatchObject({ description: 'kiwi', price: 4 });
    expect(await stockOf(t.app, product.id)).toBe(0);
    expect(
      (await t.app.inject({ url: `/product/${product.id}` })).json<Env<unknown>>().data,
    ).toEqual(product);
    const updated = await t.app.inject({
      method: 'PUT',
      url: `/product/${product.id}`,
      payload: { description: 'gold kiwi', price: 6 },
    });
    expect(updated.json<Env<unknown>>().data).toEqual({
      id: product.id,
      description: 'gold kiwi',
      price: 6,
    });
    const deleted = await t.app.inject({ method: 'DELETE', url: `/product/${product.id}` });
    expect(deleted.json<Env<unknown>>().data).toEqual({
      id: product.id,
      description: 'gold kiwi',
      price: 6,
    });
    const gone = await t.app.inject({ url: `/product/${product.id}` });
    expect([gone.statusCode, gone.json<Err>().error]).toEqual([
      404,
      `product not found with id=${product.id}`,
    ]);
    for (const method of ['PUT', 'DELETE'] as const) {
      const res = await t.app.inject({
        method,
        url: `/product/${product.id}`,
        payload: { description: 'x', price: 1 },
      });
      expect([res.statusCode, res.json<Err>().error]).toEqual([
        404,
        `product not found with id=${product.id}`,
      ]);
    }
  });

  it('lists products ordered by id without their stock', async () => {
    const list = (await t.app.inject({ url: '/product/' })).json<Env<Record<string, unknown>[]>>()
      .data;
    const ids = list.map((p) => p.id as number);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(Object.keys(list[0]!).sort()).toEqual(['description', 'id', 'price']);
  });

  it('validates product bodies with the contract messages', async () => {
    const cases: [string, string][] = [
      ['not json', 'invalid arguments'],
      ['[1,2]', 'invalid arguments'],
      ['null', 'invalid arguments'],
      ['{}', 'insufficient arguments'],
      ['{"description":"x"}', 'insufficient arguments'],
      ['{"description":"x","price":"10"}', 'argument price is not a valid int'],
      ['{"description":"x","price":1.5}', 'argument price is not a valid int'],
      ['{"description":"x","price":-1}', 'argument price should be a non-negative integer'],
      [
        '{"description":"","price":1}',
        'argument description should be a non-empty string of at most 200 characters',
      ],
      [
        JSON.stringify({ description: 'd'.repeat(201), price: 1 }),
        'argument description should be a non-empty string of at most 200 characters',
      ],
    ];
    for (const [payload, message] of cases) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/product/',
        headers: { 'content-type': 'application/json' },
        payload,
      });
      expect([res.statusCode, res.json<Err>().error], payload.slice(0, 40)).toEqual([400, message]);
    }
  });

  it('keeps product changes and replenishment for administrators', async () => {
    const p = await createProduct(t.app);
    const remote = { remoteAddress: '198.51.100.7' };
    const attempts = [
      await t.app.inject({
        method: 'POST',
        url: '/product/',
        payload: { description: 'x', price: 1 },
        ...remote,
      }),
      await t.app.inject({
        method: 'PUT',
        url: `/product/${p.id}`,
        payload: { description: 'x', price: 1 },
        ...remote,
      }),
      await t.app.inject({ method: 'DELETE', url: `/product/${p.id}`, ...remote }),
      await t.app.inject({
        method: 'PUT',
        url: `/market/replenish/${p.id}`,
        payload: { amount: 1 },
        ...remote,
      }),
    ];
    for (const res of attempts) {
      expect(res.statusCode).toBe(403);
      expect(Object.keys(res.json<Err>()).sort()).toEqual(['error', 'exe_id']);
    }
    // Reading and buying are for everyone.
    expect((await t.app.inject({ url: `/product/${p.id}`, ...remote })).statusCode).toBe(200);
  });
});

describe('the orders ledger', () => {
  it('records every validated attempt, with only the last 4 card digits', async () => {
    const p = await createProduct(t.app, { price: 9, stock: 1 });
    await buy(t.app, p.id, 1, { card: '1111222233334444' });
    await buy(t.app, p.id, 1, { card: '5555666677778888' });
    await buy(t.app, p.id, 0); // refused by validation: no order
    const orders = await db()
      .selectFrom('market_orders')
      .selectAll()
      .where('product_id', '=', p.id)
      .orderBy('id')
      .execute();
    expect(
      orders.map((o) => [o.status, o.amount, Number(o.cost), o.unit_price, o.card_last4]),
    ).toEqual([
      ['Success', 1, 9, 9, '4444'],
      ['Failure', 1, 0, 9, '8888'],
    ]);
    const dump = JSON.stringify(await db().selectFrom('market_orders').selectAll().execute());
    expect(dump).not.toContain('1111222233334444');
    expect(dump).not.toContain('5555666677778888');
  });
});
