import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  buildTestApp,
  createTestDatabase,
  dialects,
  listen,
  tempDir,
  type TestApp,
} from '../helper.js';
import { startServerProcess, type ServerProcess } from '../process.js';
import { openSse } from '../realtime-clients.js';
import { wipe } from './helpers.js';

interface Issued {
  token: string;
  secret: string;
  position: number;
  estimated_wait_s: number;
}
interface ErrorJson {
  error: { code: string; message: string; details?: unknown };
  request_id: string;
}

const take = (t: TestApp, ip = '10.1.1.1') =>
  t.app.inject({ method: 'POST', url: '/queue/tokens', remoteAddress: ip });
const claim = (t: TestApp, code: string, secret: string, ip = '10.1.1.1') =>
  t.app.inject({
    method: 'POST',
    url: `/queue/tokens/${code}/claim`,
    remoteAddress: ip,
    payload: { secret },
  });

describe('queue over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ config: { trust_proxy: ['127.0.0.1'] } });
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await wipe(t);
  });

  it('gives 1,000 concurrent requests 1,000 distinct codes in issue order', async () => {
    const answers = await Promise.all(Array.from({ length: 1000 }, () => take(t)));
    const issued = answers.map((r) => {
      expect(r.statusCode).toBe(201);
      return r.json<Issued>();
    });
    expect(new Set(issued.map((i) => i.token)).size).toBe(1000);
    const byPosition = [...issued].sort((a, b) => a.position - b.position);
    expect(byPosition.map((i) => i.position)).toEqual(
      Array.from({ length: 1000 }, (_, i) => i + 1),
    );
    // Codes follow the order of issue: A00, A01, … J99.
    const expected = Array.from(
      { length: 1000 },
      (_, i) =>
        `${String.fromCharCode(65 + Math.floor(i / 100))}${String(i % 100).padStart(2, '0')}`,
    );
    expect(byPosition.map((i) => i.token)).toEqual(expected);
  });

  it('serves a demo kitty to the head, 425 + Retry-After to the others, and shows the board', async () => {
    const a = (await take(t)).json<Issued>();
    const b = (await take(t)).json<Issued>();
    expect(a).toMatchObject({ token: 'A00', position: 1, estimated_wait_s: 0 });
    expect(b).toMatchObject({ token: 'A01', position: 2, estimated_wait_s: 120 });

    const early = await claim(t, b.token, b.secret);
    expect(early.statusCode).toBe(425);
    expect(early.headers['retry-after']).toMatch(/^\d+$/);
    expect(early.json<ErrorJson>().error).toMatchObject({
      code: 'QUEUE_NOT_YOUR_TURN',
      details: { position: 2 },
    });

    const board = (await t.app.inject({ url: '/queue' })).json();
    expect(board).toMatchObject({ head: 'A00', serving: [], waiting: ['A01'], length: 2 });

    const ok = await claim(t, a.token, a.secret);
    expect(ok.statusCode).toBe(200);
    const { image_url, view_until } = ok.json<{ image_url: string; view_until: string }>();
    expect(Date.parse(view_until)).toBeGreaterThan(Date.now());
    const picture = await t.app.inject({ url: image_url });
    expect(picture.statusCode).toBe(200);
    expect((await sharp(picture.rawPayload).metadata()).format).toBe('png');
    // The secret can also come in a header; the claim of a serving token gives the same picture.
    const again = await t.app.inject({
      method: 'POST',
      url: `/queue/tokens/${a.token}/claim`,
      headers: { 'x-token-secret': a.secret },
      remoteAddress: '10.1.1.1',
    });
    expect(again.json()).toMatchObject({ image_url });

    expect((await t.app.inject({ url: '/queue/tokens/A00' })).json()).toMatchObject({
      state: 'serving',
      estimated_wait_s: null,
    });
    expect((await t.app.inject({ url: '/queue/tokens/A01' })).json()).toMatchObject({
      state: 'head',
      position: 1,
      estimated_wait_s: 0,
    });
    expect((await t.app.inject({ url: '/queue' })).json()).toMatchObject({
      head: 'A01',
      serving: ['A00'],
    });
    expect((await t.app.inject({ url: '/queue/tokens/Q99' })).statusCode).toBe(404);
  });

  it('bans cheaters (403 on token and claim routes) until an admin lifts the ban', async () => {
    await take(t);
    const cheat = await claim(t, 'Z42', 'nope', '10.6.6.6');
    expect(cheat.statusCode).toBe(403);
    expect(cheat.json<ErrorJson>().error.code).toBe('QUEUE_CHEATER');
    expect((await take(t, '10.6.6.6')).json<ErrorJson>().error.code).toBe('QUEUE_BANNED');
    expect((await claim(t, 'A00', 'x', '10.6.6.6')).statusCode).toBe(403);
    const bans = (await t.app.inject({ url: '/queue/bans' })).json<
      { ip: string; reason: string }[]
    >();
    expect(bans).toEqual([
      expect.objectContaining({ ip: '10.6.6.6', reason: 'Z42 is not a live token' }),
    ]);
    expect((await t.app.inject({ method: 'DELETE', url: '/queue/bans/10.6.6.6' })).statusCode).toBe(
      204,
    );
    expect((await take(t, '10.6.6.6')).statusCode).toBe(201);
    // Admin routes are for administrators only.
    expect((await t.app.inject({ url: '/queue/bans', remoteAddress: '10.9.9.9' })).statusCode).toBe(
      403,
    );
  });

  it('believes X-Forwarded-For only from a trusted proxy', async () => {
    await take(t);
    // From the trusted proxy (127.0.0.1): the forwarded client is the one banned.
    await t.app.inject({
      method: 'POST',
      url: '/queue/tokens/Z01/claim',
      remoteAddress: '127.0.0.1',
      headers: { 'x-forwarded-for': '10.7.7.7' },
      payload: { secret: 'x' },
    });
    // From anyone else, the header is ignored: the sender itself is banned.
    await t.app.inject({
      method: 'POST',
      url: '/queue/tokens/Z01/claim',
      remoteAddress: '10.8.8.8',
      headers: { 'x-forwarded-for': '10.5.5.5' },
      payload: { secret: 'x' },
    });
    const ips = (await t.app.inject({ url: '/queue/bans' }))
      .json<{ ip: string }[]>()
      .map((b) => b.ip)
      .sort();
    expect(ips).toEqual(['10.7.7.7', '10.8.8.8']);
  });

  it('answers 409 on an empty line, and lets an owner leave', async () => {
    const empty = await claim(t, 'A00', 'x', '10.2.2.2');
    expect(empty.statusCode).toBe(409);
    expect(empty.json<ErrorJson>().error.code).toBe('QUEUE_EMPTY');
    const a = (await take(t)).json<Issued>();
    const left = await t.app.inject({
      method: 'DELETE',
      url: `/queue/tokens/${a.token}`,
      headers: { 'x-token-secret': a.secret },
      remoteAddress: '10.1.1.1',
    });
    expect(left.statusCode).toBe(204);
    expect((await t.app.inject({ url: '/queue' })).json()).toMatchObject({ head: null, length: 0 });
  });

  it('keeps the original client’s routes and statuses', async () => {
    const got = await t.app.inject({ url: '/queue/get-token', remoteAddress: '10.3.3.3' });
    expect(got.json()).toEqual({ status: 'ok', token: 'A00' });
    const cookie = String(got.headers['set-cookie']).split(';')[0]!;
    const second = await t.app.inject({ url: '/queue/get-token', remoteAddress: '10.3.3.4' });
    const cookie2 = String(second.headers['set-cookie']).split(';')[0]!;
    const post = (token: string, c: string, ip: string) =>
      t.app.inject({
        method: 'POST',
        url: '/queue/post-token',
        remoteAddress: ip,
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: c },
        payload: `token-field=${token}`,
      });
    expect((await post('A01', cookie2, '10.3.3.4')).json()).toEqual({ status: 'wrong_turn' });
    const success = (await post('A00', cookie, '10.3.3.3')).json<{
      status: string;
      image_url: string;
    }>();
    expect(success.status).toBe('success');
    expect(success.image_url).toMatch(/^\/images\//);
    expect((await post('B00', '', '10.3.3.5')).json()).toEqual({ status: 'cheater' });
    expect((await post('A01', cookie2, '10.3.3.5')).json()).toEqual({ status: 'banned' });
    expect(
      (await t.app.inject({ url: '/queue/get-token', remoteAddress: '10.3.3.5' })).json(),
    ).toEqual({ status: 'banned' });
    await wipe(t);
    expect((await post('A00', cookie, '10.3.3.3')).json()).toEqual({ status: 'db_empty' });
    expect((await t.app.inject({ url: '/queue/start-delay' })).statusCode).toBe(204);
    for (const r of [got, second]) expect(r.statusCode).toBe(200);
  });

  it('streams every event to every board viewer, in order, and resumes with Last-Event-ID', async () => {
    const base = await listen(t.app);
    const one = openSse(`${base}/queue/events`);
    await one.until(1);
    expect(one.items[0]!.event).toBe('snapshot');
    const n = 499; // 499 tokens: 499 token-issued + 1 head-changed = 500 events
    for (let i = 0; i < n; i++) await take(t);
    const a = await one.until(1 + n + 1);
    const issued = a
      .filter((f) => f.event === 'token-issued')
      .map((f) => (JSON.parse(f.data) as { data: { token: string } }).data.token);
    expect(issued).toHaveLength(n);
    expect(issued.slice(0, 3)).toEqual(['A00', 'A01', 'A02']);
    expect(issued).toEqual([...issued].sort());
    // A viewer that drops and comes back with its last id gets what it missed, no more.
    const lastSeen = a[100]!.id!;
    one.close();
    for (let i = 0; i < 5; i++) await take(t);
    const back = openSse(`${base}/queue/events`, { 'last-event-id': lastSeen });
    // The snapshot, then token-issued for positions 100 … n and the 5 new ones.
    const missed = await back.until(1 + (n - 99) + 5);
    const resumed = missed.filter((f) => f.event === 'token-issued');
    expect(resumed[0]!.data).toContain(`"position":100`);
    expect(resumed).toHaveLength(n - 99 + 5);
    back.close();
  });
});

describe.each(dialects().filter((d) => d !== 'sqlite'))(
  'two server processes sharing one %s database',
  (dialect) => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    let servers: ServerProcess[];
    beforeAll(async () => {
      database = await createTestDatabase(dialect);
      const args = ['--db', database.url, '--data-dir', tempDir(), '--db-pool-max', '20'];
      servers = await Promise.all([startServerProcess(args), startServerProcess(args)]);
    }, 60_000);
    afterAll(async () => {
      for (const s of servers) s.child.kill('SIGTERM');
      await Promise.all(servers.map((s) => s.exited));
      await database.drop();
    });

    it('issues 1,000 distinct codes between them, in issue order', async () => {
      const answers = await Promise.all(
        Array.from({ length: 1000 }, async (_, i) => {
          const res = await fetch(`${servers[i % 2]!.url}/queue/tokens`, { method: 'POST' });
          expect(res.status).toBe(201);
          return (await res.json()) as Issued;
        }),
      );
      expect(new Set(answers.map((a) => a.token)).size).toBe(1000);
      const byPosition = [...answers].sort((a, b) => a.position - b.position);
      expect(byPosition.map((a) => a.position)).toEqual(
        Array.from({ length: 1000 }, (_, i) => i + 1),
      );
      expect(byPosition.map((a) => a.token)).toEqual([...byPosition.map((a) => a.token)].sort());
    });
  },
);
