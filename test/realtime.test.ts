import net from 'node:net';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, listen, type TestApp } from './helper.js';
import { openSse, openWs, type SseFrame } from './realtime-clients.js';

let t: TestApp;
let base: string;
let wsBase: string;

beforeAll(async () => {
  t = await buildTestApp({ config: { realtime: { history: 2000 } } });
  base = await listen(t.app);
  wsBase = base.replace(/^http/, 'ws');
});
afterAll(async () => {
  await t.close();
});

const offsets = (frames: SseFrame[]): number[] =>
  frames.map((f) => (JSON.parse(f.data) as { offset: number }).offset);
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function publish(
  topic: string,
  count: number,
  data: (i: number) => unknown = (i) => ({ i }),
): Promise<void> {
  for (let i = 0; i < count; i++) await t.app.bus.publish(topic, 'tick', data(i));
}

describe('fan-out', () => {
  it('gives two SSE and two WebSocket clients every one of 1,000 events, in order', async () => {
    const sse = [
      openSse(`${base}/events?topics=fan.out`),
      openSse(`${base}/events?topics=fan.out`),
    ];
    const ws = [openWs(`${wsBase}/ws`), openWs(`${wsBase}/ws`)];
    await Promise.all(ws.map((c) => c.opened));
    for (const c of ws) c.send({ op: 'subscribe', topics: ['fan.out'] });
    await Promise.all(ws.map((c) => c.control.until(1)));
    // The server subscribes before it sends the response head, so headers mean "subscribed".
    const heads = await Promise.all(sse.map((c) => c.response));
    // The stream takes the response over from Fastify, and still carries its request id.
    for (const head of heads) expect(head.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    await publish('fan.out', 1000);

    for (const c of sse) {
      const frames = await c.until(1000);
      expect(offsets(frames)).toEqual(range(1, 1000));
      expect(frames[999]!.event).toBe('tick');
      expect(JSON.parse(frames[999]!.data)).toMatchObject({
        topic: 'fan.out',
        offset: 1000,
        type: 'tick',
        data: { i: 999 },
      });
      expect(frames[999]!.id).toMatch(/^@=[\w-]+&fan\.out=1000$/);
      c.close();
    }
    for (const c of ws) {
      const messages = await c.until(1000);
      expect(messages.map((m) => m.offset)).toEqual(range(1, 1000));
      expect(messages[0]).toMatchObject({
        op: 'event',
        topic: 'fan.out',
        type: 'tick',
        data: { i: 0 },
      });
      c.socket.close();
    }
  });

  it('delivers only the topics a client subscribed to', async () => {
    const ws = openWs(`${wsBase}/ws?topics=only.a`);
    await ws.control.until(1);
    expect(ws.control.items[0]).toEqual({
      op: 'subscribed',
      topics: { 'only.a': 0 },
      epoch: (await t.app.bus.latest('only.a')).epoch,
    });
    await t.app.bus.publish('only.b', 'x', 1);
    await t.app.bus.publish('only.a', 'x', 2);
    const [first] = await ws.until(1);
    expect(first).toMatchObject({ topic: 'only.a', data: 2 });
    ws.socket.close();
  });
});

describe('resume', () => {
  it('an SSE client reconnecting with Last-Event-ID gets exactly what it missed, across topics', async () => {
    const first = openSse(`${base}/events?topics=res.a,res.b`);
    await first.response;
    await publish('res.a', 30);
    await publish('res.b', 5);
    const seen = await first.until(35);
    const lastId = seen[34]!.id!;
    expect(lastId).toBe(`@=${(await t.app.bus.latest('res.a')).epoch}&res.a=30&res.b=5`);
    first.close();
    await first.closed;

    await publish('res.a', 20, (i) => ({ missed: i }));
    await publish('res.b', 2, (i) => ({ missed: i }));
    const again = openSse(`${base}/events?topics=res.a,res.b`, { 'last-event-id': lastId });
    const replayed = await again.until(22);
    const byTopic = (topic: string): number[] =>
      replayed
        .filter((f) => (JSON.parse(f.data) as { topic: string }).topic === topic)
        .map((f) => (JSON.parse(f.data) as { offset: number }).offset);
    expect(byTopic('res.a')).toEqual(range(31, 50));
    expect(byTopic('res.b')).toEqual([6, 7]);
    // …and then keeps receiving live events.
    await publish('res.a', 1);
    expect(offsets((await again.until(23)).slice(22))).toEqual([51]);
    again.close();
  });

  it('a WebSocket client resubscribing from its last offset gets what it missed', async () => {
    const ws = openWs(`${wsBase}/ws?topics=res.ws`);
    await ws.control.until(1);
    await publish('res.ws', 10);
    const seen = await ws.until(10);
    const last = seen[9]!.offset as number;
    ws.socket.close();
    await ws.closed;
    await publish('res.ws', 15);
    const back = openWs(`${wsBase}/ws`);
    await back.opened;
    back.send({ op: 'subscribe', topics: ['res.ws'], from: { 'res.ws': last } });
    const missed = await back.until(15);
    expect(missed.map((m) => m.offset)).toEqual(range(11, 25));
    expect((await back.control.until(1))[0]).toEqual({
      op: 'subscribed',
      topics: { 'res.ws': 25 },
      epoch: (await t.app.bus.latest('res.ws')).epoch,
    });
    back.socket.close();
  });

  it('says so when the history no longer reaches back to the client', async () => {
    const small = await buildTestApp({ config: { realtime: { history: 10 } } });
    try {
      const url = await listen(small.app);
      for (let i = 0; i < 50; i++) await small.app.bus.publish('gap.t', 'x', i);
      const sse = openSse(`${url}/events?topics=gap.t`, { 'last-event-id': 'gap.t=5' }, [
        'subscribed',
      ]);
      const frames = await sse.until(11);
      expect(frames[0]).toMatchObject({ event: 'gap' });
      expect(JSON.parse(frames[0]!.data)).toEqual({ topic: 'gap.t', after: 5, latest: 50 });
      expect(offsets(frames.slice(1))).toEqual(range(41, 50));
      sse.close();
    } finally {
      await small.close();
    }
  });
});

describe('protocol errors', () => {
  it('answers bad WebSocket messages with an error and keeps the connection', async () => {
    const ws = openWs(`${wsBase}/ws`);
    await ws.opened;
    ws.socket.send('not json');
    ws.send({ op: 'subscribe', topics: ['bad topic!'] });
    ws.send({ op: 'subscribe', topics: Array.from({ length: 101 }, (_, i) => `t${i}`) });
    ws.send({ op: 'ping' });
    const control = await ws.control.until(4);
    expect(control.map((m) => m.code ?? m.op)).toEqual([
      'BAD_MESSAGE',
      'INVALID_TOPIC',
      'TOO_MANY_TOPICS',
      'pong',
    ]);
    ws.socket.close();
  });

  it('refuses an SSE request without valid topics with a JSON 400', async () => {
    for (const query of ['', '?topics=', '?topics=a%20b']) {
      const res = await fetch(`${base}/events${query}`);
      expect(res.status, query).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/json/);
      expect(res.headers.get('x-request-id')).toBeTruthy();
    }
  });
});

describe('slow clients', () => {
  it('drops an SSE client that stops reading, not the server', async () => {
    const before = t.app.realtime.connections;
    const paused = await new Promise<http.IncomingMessage>((resolve) => {
      http.get(`${base}/events?topics=slow.sse`, (res) => {
        res.pause();
        resolve(res);
      });
    });
    // Wait until the server has the subscription (its `subscribed` frame was written).
    const probe = openSse(`${base}/events?topics=slow.sse`);
    await probe.response;
    await publish('slow.sse', 1);
    await probe.until(1);
    expect(t.app.realtime.connections).toBe(before + 2);
    probe.close();
    await probe.closed;
    // 16 MB of events: more than any socket buffer, far more than max_buffered_bytes.
    const blob = 'x'.repeat(64 * 1024);
    await publish('slow.sse', 256, () => blob);
    expect(t.app.realtime.connections).toBe(before);
    paused.destroy();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(
      /realtime_dropped_clients_total\{transport="sse",reason="slow"\} [1-9]/,
    );
  });

  it('drops a WebSocket client that stops reading, not the server', async () => {
    const before = t.app.realtime.connections;
    const url = new URL(`${wsBase}/ws?topics=slow.ws`);
    const raw = net.connect(Number(url.port), url.hostname);
    raw.write(
      `GET /ws?topics=slow.ws HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    // Read the handshake and the `subscribed` message, then stop reading.
    await new Promise<void>((resolve) => {
      let got = '';
      raw.on('data', (d: Buffer) => {
        got += d.toString('latin1');
        if (got.includes('subscribed')) {
          raw.pause();
          resolve();
        }
      });
    });
    expect(t.app.realtime.connections).toBe(before + 1);
    const blob = 'y'.repeat(64 * 1024);
    await publish('slow.ws', 256, () => blob);
    expect(t.app.realtime.connections).toBe(before);
    raw.destroy();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});
