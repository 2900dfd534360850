import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../src/core/bus/memory.js';
import { createProductCache, type ProductCache } from '../../src/modules/market/market.cache.js';
import type { ProductRow } from '../../src/modules/market/market.repository.js';
import { buildTestApp, type TestApp } from '../helper.js';
import { CARD, createProduct, stockOf } from './helpers.js';

const row = (id: number, quantity: number): ProductRow => ({
  id,
  description: `p${id}`,
  price: 10,
  quantity,
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
});

/** A cache over a fake table whose reads are counted, with a clock the test moves. */
function fixture(ttlMs = 100, maxEntries?: number) {
  const table = new Map<number, number>([
    [1, 5],
    [2, 8],
  ]);
  const reads: number[] = [];
  let clock = 1000;
  let hold: Promise<void> | null = null;
  const bus = createMemoryBus({ history: 0, logger: pino({ level: 'silent' }) });
  const cache = createProductCache({
    ttlMs,
    bus,
    topic: (id) => `product.${id}`,
    now: () => clock,
    ...(maxEntries === undefined ? {} : { maxEntries }),
    read: async (id) => {
      reads.push(id);
      const quantity = table.get(id);
      if (hold) await hold;
      return quantity === undefined ? undefined : row(id, quantity);
    },
  });
  return {
    cache,
    bus,
    table,
    reads,
    advance(ms: number) {
      clock += ms;
    },
    holdReads() {
      let release: () => void = () => undefined;
      hold = new Promise((resolve) => (release = resolve));
      return () => {
        hold = null;
        release();
      };
    },
  };
}

/** The quantity in the row `peekJson` has ready, if any. */
function peekQuantity(cache: ProductCache, id: number): number | undefined {
  const json = cache.peekJson(id);
  return json === undefined ? undefined : (JSON.parse(json) as ProductRow).quantity;
}

describe('product read cache', () => {
  it('serializes a cached row once, and again only once the row is read anew', async () => {
    const f = fixture(100);
    const seen: number[] = [];
    const cache = createProductCache({
      ttlMs: 100,
      bus: f.bus,
      topic: (id) => `product.${id}`,
      now: () => 0,
      read: (id) => Promise.resolve(row(id, f.table.get(id) ?? 0)),
      serialize: (r) => {
        seen.push(r.quantity);
        return `{"q":${r.quantity}}`;
      },
    });
    expect(cache.peekJson(1)).toBeUndefined();
    await cache.get(1);
    expect(cache.peekJson(1)).toBe('{"q":5}');
    expect(cache.peekJson(1)).toBe('{"q":5}');
    expect(seen).toEqual([5]);
    f.table.set(1, 7);
    cache.invalidate(1);
    expect(cache.peekJson(1)).toBeUndefined();
    await cache.get(1);
    expect(cache.peekJson(1)).toBe('{"q":7}');
    expect(seen).toEqual([5, 7]);
    cache.close();
  });

  it('serves a row from memory until its time is up, then reads again', async () => {
    const f = fixture(100);
    expect(f.cache.peekJson(1)).toBeUndefined();
    expect((await f.cache.get(1))?.quantity).toBe(5);
    f.table.set(1, 4);
    f.advance(99);
    expect((await f.cache.get(1))?.quantity).toBe(5);
    expect(peekQuantity(f.cache, 1)).toBe(5);
    expect(f.reads).toEqual([1]);
    f.advance(1);
    expect(f.cache.peekJson(1)).toBeUndefined();
    expect((await f.cache.get(1))?.quantity).toBe(4);
    expect(f.reads).toEqual([1, 1]);
  });

  it('reads again at once after an invalidation, or a change announced on the bus', async () => {
    const f = fixture(10_000);
    await f.cache.get(1);
    await f.cache.get(2);
    f.table.set(1, 0);
    f.cache.invalidate(1);
    expect(f.cache.peekJson(1)).toBeUndefined();
    expect((await f.cache.get(1))?.quantity).toBe(0);
    f.table.set(2, 3);
    await f.bus.publish('product.2', 'stock-changed', { quantity: 3 });
    expect((await f.cache.get(2))?.quantity).toBe(3);
    f.table.set(1, 9);
    f.table.set(2, 9);
    f.cache.invalidateAll();
    expect((await f.cache.get(1))?.quantity).toBe(9);
    expect((await f.cache.get(2))?.quantity).toBe(9);
    expect(f.reads).toEqual([1, 2, 1, 2, 1, 2]);
  });

  it('does not keep what a read found when a change came while it ran', async () => {
    const f = fixture(10_000);
    const release = f.holdReads();
    const pending = f.cache.get(1);
    f.table.set(1, 1);
    f.cache.invalidate(1);
    release();
    expect((await pending)?.quantity).toBe(5); // read before the change: fine to answer once
    expect((await f.cache.get(1))?.quantity).toBe(1); // but not kept
  });

  it('never keeps a missing product, and reads every time when off', async () => {
    const f = fixture(10_000);
    expect(await f.cache.get(7)).toBeUndefined();
    f.table.set(7, 2);
    expect((await f.cache.get(7))?.quantity).toBe(2);
    const off = fixture(0);
    await off.cache.get(1);
    await off.cache.get(1);
    expect(off.reads).toEqual([1, 1]);
  });

  it('holds at most maxEntries rows, dropping the oldest and its subscription', async () => {
    const f = fixture(10_000, 1);
    await f.cache.get(1);
    await f.cache.get(2);
    await f.cache.get(1);
    expect(f.reads).toEqual([1, 2, 1]);
    f.cache.close();
    f.table.set(1, 0);
    expect((await f.cache.get(1))?.quantity).toBe(0);
  });
});

describe('product reads through the API, with the read cache on', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ config: { market: { read_cache_ms: 60_000 } } });
  });
  afterAll(async () => {
    await t.close();
  });

  it("show this node's purchases, replenishments and price changes at once", async () => {
    const p = await createProduct(t.app, { price: 3, stock: 5 });
    expect(await stockOf(t.app, p.id)).toBe(5);
    // From memory now: the same contract, with this request's id.
    const again = await t.app.inject({ url: `/market/query/${p.id}` });
    expect(again.statusCode).toBe(200);
    expect(again.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(again.json()).toEqual({
      data: { id: p.id, description: p.description, price: 3, quantity: 5 },
      exe_id: again.headers['x-request-id'],
    });
    const bought = await t.app.inject({
      method: 'POST',
      url: `/market/buy/${p.id}`,
      payload: { amount: 2, credit_card: CARD },
    });
    expect(bought.json<{ data: { status: string } }>().data.status).toMatch(/^Success/);
    expect(await stockOf(t.app, p.id)).toBe(3);
    await t.app.inject({
      method: 'PUT',
      url: `/market/replenish/${p.id}`,
      payload: { amount: 4 },
    });
    expect(await stockOf(t.app, p.id)).toBe(7);
    await t.app.inject({
      method: 'PUT',
      url: `/product/${p.id}`,
      payload: { description: 'renamed', price: 4 },
    });
    const query = await t.app.inject({ url: `/market/query/${p.id}` });
    expect(query.json<{ data: { price: number; description: string } }>().data).toMatchObject({
      price: 4,
      description: 'renamed',
    });
    await t.app.inject({ method: 'DELETE', url: `/product/${p.id}` });
    expect((await t.app.inject({ url: `/market/query/${p.id}` })).statusCode).toBe(404);
  });
});
