import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { successfulOrderTotals } from '../../src/modules/market/market.repository.js';
import { buildTestApp, createTestDatabase, dialects, tempDir, type TestApp } from '../helper.js';
import { startServerProcess, type ServerProcess } from '../process.js';
import { buy, CARD, createProduct, stockOf } from './helpers.js';

describe.each(dialects())('purchases under contention on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, config: { db_pool_max: 20 } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('never sells more than the stock under 200 concurrent buyers', async () => {
    const p = await createProduct(t.app, { price: 13, stock: 50 });
    const answers = await Promise.all(Array.from({ length: 200 }, () => buy(t.app, p.id, 1)));
    const statuses = answers.map((r) => r.json<{ data: { status: string } }>().data.status);
    expect(statuses.filter((s) => s === 'Success')).toHaveLength(50);
    expect(statuses.filter((s) => s === 'Failure (insufficent quantity)')).toHaveLength(150);
    expect(await stockOf(t.app, p.id)).toBe(0);
    expect(await successfulOrderTotals(t.app.db, p.id)).toEqual({
      orders: 50,
      amount: 50,
      cost: 50 * 13,
    });
  });
});

// Two real server processes on one shared database: no in-process lock can help here.
describe.each(dialects().filter((d) => d !== 'sqlite'))(
  'two server processes sharing one %s database',
  (dialect) => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    let servers: ServerProcess[];
    beforeAll(async () => {
      database = await createTestDatabase(dialect);
      const args = ['--db', database.url, '--data-dir', tempDir(), '--db-pool-max', '20'];
      // Started together: both migrate and both try to seed the empty market at once.
      servers = await Promise.all([startServerProcess(args), startServerProcess(args)]);
    }, 60_000);
    afterAll(async () => {
      for (const s of servers) s.child.kill('SIGTERM');
      await Promise.all(servers.map((s) => s.exited));
      await database.drop();
    });

    it('seed the market once between them', async () => {
      const list = (await (await fetch(`${servers[0]!.url}/product/`)).json()) as {
        data: { id: number }[];
      };
      expect(list.data.map((p) => p.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });

    it('sell exactly the stock between them to 200 concurrent buyers', async () => {
      const [a, b] = servers as [ServerProcess, ServerProcess];
      const created = await fetch(`${a.url}/product/`, {
        method: 'POST',
        body: JSON.stringify({ description: 'contended', price: 21 }),
      });
      const { id } = ((await created.json()) as { data: { id: number } }).data;
      await fetch(`${b.url}/market/replenish/${id}`, {
        method: 'PUT',
        body: JSON.stringify({ amount: 50 }),
      });

      const answers = await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const res = await fetch(`${(i % 2 === 0 ? a : b).url}/market/buy/${id}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ amount: 1, credit_card: CARD }),
          });
          return ((await res.json()) as { data: { status: string; cost: number } }).data;
        }),
      );
      const sold = answers.filter((x) => x.status === 'Success');
      expect(sold).toHaveLength(50);
      expect(sold.reduce((sum, x) => sum + x.cost, 0)).toBe(50 * 21);
      const stock = (await (await fetch(`${b.url}/market/query/${id}`)).json()) as {
        data: { quantity: number };
      };
      expect(stock.data.quantity).toBe(0);
    });
  },
);
