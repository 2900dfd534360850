/**
 * What a hostile or broken client sends below the level of routes: malformed URLs, requests
 * Node's HTTP parser refuses, connections that idle or trickle, more connections than the process
 * has descriptors for. Each gets a JSON error with a request id, or a bounded wait, and the
 * server goes on serving.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionLimit, openFilesLimit } from '../src/core/connections.js';
import { buildTestApp, listen, type TestApp } from './helper.js';

/** Resolves when `socket` closes, whether or not an error came first (EPIPE, ECONNRESET). */
function closed(socket: Socket): Promise<void> {
  socket.on('error', () => undefined);
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

/** Sends `raw` on a new connection; resolves with everything the server wrote before closing. */
async function rawExchange(port: number, raw: string | Buffer): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const done = closed(socket);
  socket.write(raw);
  await done;
  return Buffer.concat(chunks).toString('latin1');
}

function parseResponse(text: string): {
  status: number;
  headers: Record<string, string>;
  body: string;
} {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

describe('hostile input below the routes', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await buildTestApp({
      config: {
        http: { headers_timeout_ms: 1000, keep_alive_timeout_ms: 1000, max_connections: 8 },
      },
    });
    port = Number(new URL(await listen(t.app)).port);
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers a malformed % escape in the envelope of the module it names, with the request id', async () => {
    const market = await t.app.inject({ url: '/market/query/%zz' });
    expect(market.statusCode).toBe(400);
    expect(market.json()).toEqual({
      error: expect.stringMatching(/not a valid url/),
      exe_id: market.headers['x-request-id'],
    });
    const core = await t.app.inject({ url: '/%E0%A4%A' });
    expect(core.statusCode).toBe(400);
    expect(core.json()).toEqual({
      error: { code: 'BAD_URL', message: expect.any(String) },
      request_id: core.headers['x-request-id'],
    });
  });

  it.each([
    ['a bad request line', 'G@T / HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    [
      'Content-Length with Transfer-Encoding',
      'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
    ],
    ['a NUL in a header', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n', 400],
    [
      'headers too large',
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
    ],
  ])('answers %s with a JSON error and a request id, then closes', async (_name, raw, status) => {
    const res = parseResponse(await rawExchange(port, raw));
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(res.body) as { error: { code: string }; request_id: string };
    expect(body.request_id).toBe(res.headers['x-request-id']);
    expect(body.error.code).toMatch(/^[A-Z_]+$/);
    expect((await t.app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });

  it('closes a connection that sends nothing, and one that trickles its headers', async () => {
    const silent = connect(port, '127.0.0.1');
    const trickle = connect(port, '127.0.0.1');
    const bothClosed = Promise.all([closed(silent), closed(trickle)]);
    await once(trickle, 'connect');
    trickle.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const timer = setInterval(() => {
      if (!trickle.destroyed) trickle.write('X-Slow: 1\r\n');
    }, 200);
    try {
      await bothClosed;
    } finally {
      clearInterval(timer);
    }
  });

  it('closes an idle keep-alive connection', async () => {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const answered = once(socket, 'data');
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const [first] = (await answered) as [Buffer];
    expect(first.toString()).toMatch(/^HTTP\/1.1 200/);
    await once(socket, 'close');
  });

  it('refuses connections past http.max_connections instead of running out of descriptors', async () => {
    const held: Socket[] = [];
    // The server's side of each connection, to know when it has seen them go.
    const serverSide: Promise<void>[] = [];
    const track = (socket: Socket): void => {
      serverSide.push(closed(socket));
    };
    t.app.server.on('connection', track);
    try {
      for (let i = 0; i < 8; i++) {
        const s = connect(port, '127.0.0.1');
        s.on('error', () => undefined);
        await once(s, 'connect');
        held.push(s);
      }
      const extra = connect(port, '127.0.0.1');
      const extraClosed = closed(extra);
      extra.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      const got: Buffer[] = [];
      extra.on('data', (c: Buffer) => got.push(c));
      await extraClosed;
      expect(Buffer.concat(got).length).toBe(0);
    } finally {
      for (const s of held) s.destroy();
      t.app.server.off('connection', track);
    }
    await Promise.all(serverSide);
    // Once they are gone, the server serves again.
    const again = await rawExchange(
      port,
      'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(parseResponse(again).status).toBe(200);
  });
});

describe('the default connection limit', () => {
  it('stays below the open-files limit read from /proc/self/limits', () => {
    const limits = [
      'Limit                     Soft Limit           Hard Limit           Units     ',
      'Max processes             127325               127325               processes ',
      'Max open files            1024                 524288               files     ',
    ].join('\n');
    expect(openFilesLimit(() => limits)).toBe(1024);
    expect(connectionLimit(1024)).toBe(857);
    expect(connectionLimit(null)).toBe(Infinity);
    expect(
      openFilesLimit(
        () => 'Max open files            unlimited            unlimited            files',
      ),
    ).toBeNull();
    expect(
      openFilesLimit(() => {
        throw new Error('no /proc here');
      }),
    ).toBeNull();
  });
});
