import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helper.js';
import { createProduct, stockOf } from './helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t.close();
});

const huge = 'x'.repeat(1_000_000);

describe('hostile input', () => {
  it('answers every bad buy with a 400 JSON error, never a 500 or a hang, and keeps serving', async () => {
    const p = await createProduct(t.app, { stock: 5 });
    const bodies: string[] = [
      JSON.stringify({ amount: 1e300, credit_card: '4242424242424242' }),
      JSON.stringify({ amount: 2 ** 53 + 2, credit_card: '4242424242424242' }),
      JSON.stringify({ amount: -5, credit_card: '4242424242424242' }),
      JSON.stringify({ amount: 1, credit_card: '４２４２４２４２４２４２４２４２' }), // full-width digits
      JSON.stringify({ amount: 1, credit_card: '٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢' }), // Arabic-Indic digits
      JSON.stringify({ amount: 1, credit_card: huge }),
      JSON.stringify({ amount: huge, credit_card: '4242424242424242' }),
      JSON.stringify([1, 2, 3]),
      JSON.stringify([{ amount: 1, credit_card: '4242424242424242' }]),
      'null',
      '"a string"',
      '42',
      JSON.stringify({ amount: null, credit_card: null }),
      JSON.stringify({ amount: { $gt: 0 }, credit_card: '4242424242424242' }),
      JSON.stringify({ amount: [1], credit_card: ['4242424242424242'] }),
      'amount=1&credit_card=4242424242424242',
      '{"amount": 1, "credit_card": "4242424242424242"', // truncated
      '\u0000\u0001\u0002',
    ];
    for (const payload of bodies) {
      for (const type of ['application/json', 'application/x-www-form-urlencoded']) {
        const res = await t.app.inject({
          method: 'POST',
          url: `/market/buy/${p.id}`,
          headers: { 'content-type': type },
          payload,
        });
        expect(res.statusCode, `${type} ${payload.slice(0, 60)}`).toBe(400);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(typeof res.json<{ error: string }>().error).toBe('string');
      }
    }
    expect(await stockOf(t.app, p.id)).toBe(5);
  });

  it('answers bad product bodies and bad ids with 400/404 JSON', async () => {
    for (const payload of [
      JSON.stringify({ description: huge, price: 1 }),
      JSON.stringify({ description: 'x', price: 1e20 }),
      'description=x&price=1',
    ]) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/product/',
        headers: { 'content-type': 'application/json' },
        payload,
      });
      expect(res.statusCode, payload.slice(0, 40)).toBe(400);
    }
    for (const id of ['-1', '0', '1.5', '99999999999999999999', '%00', 'DROP TABLE', '1e3']) {
      const res = await t.app.inject({ url: `/market/query/${encodeURIComponent(id)}` });
      expect(res.statusCode, id).toBe(404);
      expect(res.json<{ error: string }>().error).toMatch(/^not found product with id=/);
    }
  });

  it('still answers normally afterwards', async () => {
    expect((await t.app.inject({ url: '/market/query/1' })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/readyz' })).statusCode).toBe(200);
  });
});
