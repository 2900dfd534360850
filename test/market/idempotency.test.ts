import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  insertPendingKey,
  successfulOrderTotals,
} from '../../src/modules/market/market.repository.js';
import { purchaseFingerprint } from '../../src/modules/market/market.service.js';
import { buildTestApp, dialects, type TestApp } from '../helper.js';
import { buy, CARD, createProduct, stockOf } from './helpers.js';

describe.each(dialects())('Idempotency-Key on buy (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
  });
  afterAll(async () => {
    await t.close();
  });

  it('replays the first answer and buys only once', async () => {
    const p = await createProduct(t.app, { price: 5, stock: 10 });
    const first = await buy(t.app, p.id, 3, { key: `replay-${p.id}` });
    const again = await buy(t.app, p.id, 3, { key: `replay-${p.id}` });
    expect(first.json<{ data: unknown }>().data).toEqual({ cost: 15, status: 'Success' });
    expect(again.statusCode).toBe(200);
    expect(again.json<{ data: unknown }>().data).toEqual({ cost: 15, status: 'Success' });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(await stockOf(t.app, p.id)).toBe(7);
  });

  it('refuses the same key with a different body with 422', async () => {
    const p = await createProduct(t.app, { stock: 10 });
    await buy(t.app, p.id, 1, { key: `mismatch-${p.id}` });
    const other = await buy(t.app, p.id, 2, { key: `mismatch-${p.id}` });
    expect(other.statusCode).toBe(422);
    expect(other.json<{ error: string }>().error).toBe(
      'this Idempotency-Key was used with a different request',
    );
    expect(await stockOf(t.app, p.id)).toBe(9);
  });

  it('answers 409 while a request with the same key is in progress', async () => {
    const p = await createProduct(t.app, { stock: 10 });
    const key = `inflight-${p.id}`;
    // Another request holds the key (pending) right now.
    const fingerprint = purchaseFingerprint(p.id, 1, CARD);
    expect(await insertPendingKey(t.app.db, key, fingerprint, new Date().toISOString())).toBe(true);
    const res = await buy(t.app, p.id, 1, { key });
    expect(res.statusCode).toBe(409);
    expect(res.headers['retry-after']).toBe('1');
    expect(await stockOf(t.app, p.id)).toBe(10);
  });

  it('takes over a key left pending by a node that died, once idempotency_takeover_ms has passed', async () => {
    const p = await createProduct(t.app, { price: 3, stock: 10 });
    const fingerprint = purchaseFingerprint(p.id, 1, CARD);
    // Pending for 2 s: within the default 60 s, a retry still waits.
    const twoSecondsAgo = new Date(Date.now() - 2000).toISOString();
    expect(await insertPendingKey(t.app.db, `dead-${p.id}`, fingerprint, twoSecondsAgo)).toBe(true);
    expect((await buy(t.app, p.id, 1, { key: `dead-${p.id}` })).statusCode).toBe(409);
    // A node set to take over after 1 s buys, once.
    const quick = await buildTestApp({
      dialect,
      config: { market: { idempotency_takeover_ms: 1000 } },
    });
    try {
      const q = await createProduct(quick.app, { price: 3, stock: 10 });
      const key = `dead-${q.id}`;
      expect(
        await insertPendingKey(
          quick.app.db,
          key,
          purchaseFingerprint(q.id, 1, CARD),
          twoSecondsAgo,
        ),
      ).toBe(true);
      const retried = await buy(quick.app, q.id, 1, { key });
      expect(retried.statusCode).toBe(200);
      expect(retried.json<{ data: unknown }>().data).toEqual({ cost: 3, status: 'Success' });
      expect((await buy(quick.app, q.id, 1, { key })).headers['idempotent-replayed']).toBe('true');
      expect(await stockOf(quick.app, q.id)).toBe(9);
    } finally {
      await quick.close();
    }
  });

  it('buys exactly once when 20 requests with one key arrive together', async () => {
    const p = await createProduct(t.app, { price: 2, stock: 100 });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => buy(t.app, p.id, 4, { key: `burst-${p.id}` })),
    );
    for (const r of answers) {
      expect([200, 409]).toContain(r.statusCode);
      if (r.statusCode === 200)
        expect(r.json<{ data: unknown }>().data).toEqual({ cost: 8, status: 'Success' });
    }
    expect(await stockOf(t.app, p.id)).toBe(96);
    expect((await successfulOrderTotals(t.app.db, p.id)).orders).toBe(1);
  });

  it('rejects a malformed key', async () => {
    const p = await createProduct(t.app, { stock: 1 });
    const res = await t.app.inject({
      method: 'POST',
      url: `/market/buy/${p.id}`,
      headers: { 'idempotency-key': 'x'.repeat(300) },
      payload: { amount: 1, credit_card: '4242424242424242' },
    });
    expect(res.statusCode).toBe(400);
    expect(await stockOf(t.app, p.id)).toBe(1);
  });
});
