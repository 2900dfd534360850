/**
 * The queue's compatibility profile, written from the original Cats Queue Management System's
 * documented behaviour: its routes at the root (`GET /get-token`, `POST /post-token` with the form
 * field `token-field`, the `/update` stream's lines, `GET /start-delay`), its page ("Kitty
 * Getter") at `/`, the lowest free code first, and one browser holding several tokens. Each test
 * starts from an empty line, as the original's tests started from a fresh application.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildTestApp, listen, type TestApp } from '../helper.js';
import { openSse } from '../realtime-clients.js';
import { queueDb, wipe } from './helpers.js';

/** One browser: it keeps the cookies the server sets, like the original client's session. */
function browser(t: TestApp, ip = '10.2.2.2') {
  const jar = new Map<string, string>();
  const send = async (options: InjectOptions): Promise<LightMyRequestResponse> => {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await t.app.inject({
      remoteAddress: ip,
      ...options,
      headers: { ...options.headers, ...(cookie ? { cookie } : {}) },
    });
    for (const c of res.cookies) jar.set(c.name, c.value);
    return res;
  };
  return {
    getToken: async () =>
      (await send({ method: 'GET', url: '/get-token' })).json<{ status: string; token?: string }>(),
    postToken: async (code: string) =>
      (
        await send({
          method: 'POST',
          url: '/post-token',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: `token-field=${code}`,
        })
      ).json<{ status: string; image_url?: string }>(),
    send,
  };
}

describe("the queue in the original's profile, at the root", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({
      config: { prefixes: { queue: '/' }, queue: { compat: true } },
    });
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await wipe(t);
  });

  it('starts at the root and serves its page there to any client but a JSON one', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('<title>Kitty Getter</title>');
    expect(page.body).toContain('src="/static/kitty.js"');
    const script = await t.app.inject({ method: 'GET', url: '/static/kitty.js' });
    expect(script.statusCode).toBe(200);
    expect(script.body).toContain("'/update'");
    const json = await t.app.inject({
      method: 'GET',
      url: '/',
      headers: { accept: 'application/json' },
    });
    expect(json.json()).toMatchObject({ head: null, length: 0 });
  });

  it('hands out A00, then A00 … A05 one by one', async () => {
    const b = browser(t);
    expect(await b.getToken()).toEqual({ status: 'ok', token: 'A00' });
    await wipe(t);
    const codes = [];
    for (let i = 0; i < 6; i++) codes.push((await b.getToken()).token);
    expect(codes).toEqual(['A00', 'A01', 'A02', 'A03', 'A04', 'A05']);
  });

  it('gives a claimed code to the next one (lowest free first), then goes on where it was', async () => {
    const b = browser(t);
    const codes = [];
    for (let i = 0; i < 6; i++) codes.push((await b.getToken()).token);
    expect(await b.postToken('A00')).toMatchObject({ status: 'success' });
    codes.splice(codes.indexOf('A00'), 1);
    codes.push((await b.getToken()).token, (await b.getToken()).token);
    expect(codes).toEqual(['A01', 'A02', 'A03', 'A04', 'A05', 'A00', 'A06']);
  });

  it('lets one browser holding two tokens claim the older one on its turn: success, no ban', async () => {
    const b = browser(t);
    expect((await b.getToken()).token).toBe('A00');
    expect(await b.postToken('A00')).toMatchObject({ status: 'success' });
    // Two tabs, or a double click: two tokens in one browser.
    expect((await b.getToken()).token).toBe('A00');
    expect((await b.getToken()).token).toBe('A01');
    const first = await b.postToken('A00');
    expect(first.status).toBe('success');
    expect(first.image_url).toMatch(/^\/images\//);
    expect(await b.postToken('A01')).toMatchObject({ status: 'success' });
    expect(await b.getToken()).toMatchObject({ status: 'ok' });
  });

  it('answers db_empty on an empty line, wrong_turn out of turn, cheater (and bans) for a code not yours', async () => {
    const b = browser(t);
    expect(await b.postToken('A01')).toEqual({ status: 'db_empty' });
    await b.getToken();
    await b.getToken();
    expect(await b.postToken('A01')).toEqual({ status: 'wrong_turn' });
    const other = browser(t, '10.2.2.3');
    expect(await other.postToken('A00')).toEqual({ status: 'cheater' });
    expect(await other.getToken()).toEqual({ status: 'banned' });
    expect(await other.postToken('A00')).toEqual({ status: 'banned' });
  });

  it('answers a form without a token-field with a 400, and does not ban', async () => {
    const b = browser(t);
    await b.getToken();
    const res = await b.send({
      method: 'POST',
      url: '/post-token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'other=1',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ error: { code: string } }>().error.code).toBe('QUEUE_BAD_FORM');
    expect(res.json<{ request_id: string }>().request_id).toBe(res.headers['x-request-id']);
    expect(await b.postToken('A00')).toMatchObject({ status: 'success' });
  });

  it('tells the owner of an ended token so, without a ban', async () => {
    const b = browser(t);
    await b.getToken();
    expect(await b.postToken('A00')).toMatchObject({ status: 'success' });
    // Viewing over: the token is used.
    await queueDb(t)
      .updateTable('queue_tokens')
      .set({ view_until: 1 })
      .where('code', '=', 'A00')
      .execute();
    await queueDb(t).updateTable('queue_state').set({ viewing_until: 1 }).execute();
    expect(await b.postToken('A00')).toEqual({ status: 'ended' });
    expect((await b.getToken()).token).toBe('A00');
    expect(await b.postToken('A00')).toMatchObject({ status: 'success' });
    expect(await b.getToken()).toMatchObject({ status: 'ok' });
  });

  it("streams the board in the original's lines at /update, and start-delay is a no-op", async () => {
    const base = await listen(t.app);
    const b = browser(t);
    await b.getToken();
    const stream = openSse(`${base}/update`);
    expect((await stream.until(1)).map((f) => f.data)).toEqual(['update-append A00 1']);
    await b.getToken();
    await b.postToken('A00');
    const frames = await stream.until(3);
    expect(frames.map((f) => [f.event, f.data])).toEqual([
      ['message', 'update-append A00 1'],
      ['message', 'update-append A01 2'],
      ['message', 'update-remove'],
    ]);
    stream.close();
    const delay = await t.app.inject({ method: 'GET', url: '/start-delay' });
    expect(delay.statusCode).toBe(204);
  });
});

describe("the queue's own API beside the compatibility routes (default profile)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ config: { queue: { demo_pictures: false } } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers the board as JSON at /queue/ and keeps the cycle order', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/queue/' });
    expect(res.json()).toMatchObject({ head: null, length: 0 });
    const codes = [];
    for (let i = 0; i < 2; i++) {
      const r = await t.app.inject({ method: 'GET', url: '/queue/get-token' });
      codes.push(r.json<{ token: string }>().token);
    }
    expect(codes).toEqual(['A00', 'A01']);
  });
});
