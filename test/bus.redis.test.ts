import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus, BusEvent } from '../src/core/bus/index.js';
import { createRedisBus } from '../src/core/bus/redis.js';
import {
  buildTestApp,
  createTestDatabase,
  dialects,
  listen,
  redisAvailable,
  redisNamespace,
  type TestApp,
} from './helper.js';
import { openWs } from './realtime-clients.js';

const logger = pino({ level: 'silent' });

/** Resolves with the first `n` events `bus` delivers on `topic`. */
function collect(bus: Bus, topic: string, n: number): Promise<BusEvent[]> {
  const got: BusEvent[] = [];
  return new Promise((resolve) => {
    const sub = bus.subscribe(topic, (e) => {
      got.push(e);
      if (got.length === n) {
        sub.close();
        resolve(got);
      }
    });
  });
}

const TIMEOUTS = { connectTimeoutMs: 5000, commandTimeoutMs: 1000 };

describe.runIf(redisAvailable())('Redis bus', () => {
  let ns: Awaited<ReturnType<typeof redisNamespace>>;
  let a: Bus;
  let b: Bus;
  beforeAll(async () => {
    ns = await redisNamespace();
    const options = { url: ns.url, prefix: ns.prefix, history: 5, logger, ...TIMEOUTS };
    a = await createRedisBus(options);
    b = await createRedisBus(options);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await ns.clear();
  });

  it('numbers events per topic from 1 across every node, and delivers them in order to every node', async () => {
    const onA = collect(a, 'r.order', 40);
    const onB = collect(b, 'r.order', 40);
    const published = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).publish('r.order', 'tick', { i })),
    );
    expect(published.map((e) => e.offset).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    for (const events of [await onA, await onB]) {
      expect(events.map((e) => e.offset)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(events[0]).toMatchObject({ topic: 'r.order', type: 'tick' });
    }
    const { epoch } = await a.latest('r.order');
    expect(await a.latest('r.order')).toEqual({ epoch, offset: 40 });
    expect(await b.latest('r.other')).toEqual({ epoch, offset: 0 });
  });

  it('keeps a bounded history shared by the nodes and says when it does not reach back', async () => {
    for (let i = 1; i <= 12; i++) await a.publish('r.hist', 'x', i);
    const recent = await b.history('r.hist', 9);
    expect(recent.events.map((e) => e.offset)).toEqual([10, 11, 12]);
    expect(recent.complete).toBe(true);
    const old = await b.history('r.hist', 2);
    expect(old.events.map((e) => e.offset)).toEqual([8, 9, 10, 11, 12]);
    expect(old.complete).toBe(false);
    expect((await b.history('r.hist', 99)).complete).toBe(false);
    expect(old.events[0]!.data).toBe(8);
  });

  it('is ready while Redis answers', async () => {
    await expect(a.ping()).resolves.toBeUndefined();
  });
});

describe.runIf(redisAvailable())('two nodes on one database and one Redis', () => {
  const dialect = dialects().includes('postgres') ? 'postgres' : 'sqlite';
  let ns: Awaited<ReturnType<typeof redisNamespace>>;
  let nodeA: TestApp;
  let nodeB: TestApp;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    ns = await redisNamespace();
    database = await createTestDatabase(dialect);
    const config = { redis_url: ns.url, redis_prefix: ns.prefix, db: database.url };
    nodeA = await buildTestApp({ dialect, config });
    nodeB = await buildTestApp({ dialect, config });
  });
  afterAll(async () => {
    await nodeA.close();
    await nodeB.close();
    await database.drop();
    await ns.clear();
  });

  it('a price change made through node A reaches a subscriber connected to node B', async () => {
    const base = await listen(nodeB.app);
    const ws = openWs(`${base.replace('http', 'ws')}/ws?topics=product.3`);
    await ws.control.until(1);
    const res = await nodeA.app.inject({
      method: 'PUT',
      url: '/product/3',
      payload: { description: 'orange', price: 99 },
    });
    expect(res.statusCode).toBe(200);
    const [event] = await ws.until(1);
    expect(event).toMatchObject({
      topic: 'product.3',
      type: 'price-changed',
      data: { id: 3, old_price: 20, new_price: 99 },
    });
    ws.socket.close();
  });

  it('reports the bus in readiness', async () => {
    expect((await nodeB.app.inject({ url: '/readyz' })).json()).toEqual({
      status: 'ok',
      checks: { database: 'ok', bus: 'ok' },
    });
  });
});
