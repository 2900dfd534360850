/**
 * The market's and the image service's compatibility profiles (`market.compat`,
 * `images.compat`), written from the originals' documented behaviour; the queue's and the tax
 * module's are in their own folders. The defaults stay Agora's own API: each difference is
 * checked both ways.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './helper.js';
import { multipart } from './images/fixtures.js';

const CARD = 4242424242424242;

describe.each([true, false])('market and images with compat %s', (compat) => {
  let t: TestApp;
  let photo: Buffer;
  beforeAll(async () => {
    t = await buildTestApp({
      config: { market: { compat }, images: { compat }, queue: { demo_pictures: false } },
    });
    photo = await sharp({
      create: { width: 40, height: 30, channels: 3, background: '#c63' },
    })
      .jpeg()
      .toBuffer();
  });
  afterAll(async () => {
    await t.close();
  });

  it('market: a card sent as a JSON number of exactly 16 digits is accepted in the profile only', async () => {
    const buy = (card: unknown) =>
      t.app.inject({
        method: 'POST',
        url: '/market/buy/1',
        payload: { amount: 1, credit_card: card },
      });
    const numeric = await buy(CARD);
    if (compat) {
      expect(numeric.statusCode).toBe(200);
      expect(numeric.json<{ data: { status: string } }>().data.status).toMatch(
        /^(Success|Failure)/,
      );
    } else {
      expect(numeric.statusCode).toBe(400);
    }
    // Never a number that is not exactly 16 digits, nor one JSON cannot carry exactly.
    for (const card of [
      '424242424242424',
      '42424242424242420',
      '9999999999999999',
      '4242424242424242.5',
    ]) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/market/buy/1',
        headers: { 'content-type': 'application/json' },
        payload: `{"amount":1,"credit_card":${card}}`,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json<{ error: string }>().error).toBe(
        '`credit_card` value should be 16 length of digits',
      );
    }
  });

  it('market: GET / answers API clients with the original status in the profile; browsers keep the landing page', async () => {
    const api = await t.app.inject({ url: '/' });
    if (compat) {
      expect(api.statusCode).toBe(200);
      expect(api.json()).toEqual({ data: { status: 'ok' }, exe_id: api.headers['x-request-id'] });
    } else {
      expect(api.headers['content-type']).not.toMatch(/json/);
    }
    const browser = await t.app.inject({ url: '/', headers: { accept: 'text/html' } });
    expect(browser.statusCode).toBe(200);
    expect(browser.headers['content-type']).toMatch(/^text\/html/);
  });

  it('images: full_name is <id>____<name> and /fs/<full_name> serves the file in the profile', async () => {
    const form = multipart([
      { field: 'image', filename: 'cat.jpg', type: 'image/jpeg', data: photo },
    ]);
    const res = await t.app.inject({ method: 'POST', url: '/storage/', ...form });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ id: string; full_name: string }>();
    const fs = await t.app.inject({ url: `/fs/${body.id}____cat.jpg` });
    if (compat) {
      expect(body.full_name).toBe(`${body.id}____cat.jpg`);
      expect(fs.statusCode).toBe(200);
      expect(fs.headers['content-type']).toBe('image/jpeg');
      expect(fs.rawPayload.equals(photo)).toBe(true);
      const unknown = await t.app.inject({ url: '/fs/AAAAAAAAAAAA____cat.jpg' });
      expect(unknown.statusCode).toBe(404);
      expect((await t.app.inject({ url: '/fs/cat.jpg' })).statusCode).toBe(404);
    } else {
      expect(body.full_name).toBe('cat.jpg');
      expect(fs.statusCode).toBe(404);
    }
  });
});
