import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/config.js';
import { rangeArrayChunks } from '../../src/modules/numbers/numbers.source.js';
import { buildTestApp, listen, type TestApp } from '../helper.js';
import { startUpstream, type TestUpstream, type UpstreamMode } from './upstream.js';

interface ErrorJson {
  error: { code: string; message: string; details?: { offset: number; element: number } };
  request_id: string;
}

const post = (t: TestApp, payload: string | Buffer, contentType = 'application/json') =>
  t.app.inject({
    method: 'POST',
    url: '/total',
    headers: { 'content-type': contentType },
    payload,
  });

describe('numbers: GET /total on the simulated source and POST /total', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ config: { numbers: { delay_ms: 20, post_max_bytes: 4096 } } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers the default list 0 … 1,000,000 with {"total":500000500000}', async () => {
    const res = await t.app.inject({ url: '/total' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toBe('{"total":500000500000}');
    expect(res.headers['server-timing']).toMatch(/^upstream;dur=\d+/);
  });

  it('sums posted lists: small, empty, past 2^53 (exactly, as BigInt does) and with fractions', async () => {
    expect((await post(t, '[1,2,3]')).body).toBe('{"total":6}');
    expect((await post(t, '[]')).body).toBe('{"total":0}');
    const big = [9007199254740993n, 9007199254740993n, 18446744073709551615n, -5n];
    const res = await post(t, `[${big.join(',')}]`);
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(`{"total":${big.reduce((a, b) => a + b, 0n)}}`);
    expect((await post(t, '[0.1, 0.2, 0.3]')).json()).toEqual({ total: 0.6 });
    // Whatever the Content-Type says, the body is read as a JSON array.
    expect((await post(t, '[4,5]', 'text/plain')).body).toBe('{"total":9}');
  });

  it('refuses malformed bodies and non-numbers with 400 naming the position', async () => {
    const cases: [string, number, number][] = [
      ['[1,2,"3"]', 5, 2],
      ['[1,2,null]', 5, 2],
      ['[1,2', 4, 1],
      ['{"numbers":[1]}', 0, 0],
      ['a=1&b=2', 0, 0],
      ['[1,,2]', 3, 1],
    ];
    for (const [body, offset, element] of cases) {
      const res = await post(t, body);
      expect(res.statusCode, body).toBe(400);
      const json = res.json<ErrorJson>();
      expect(json.error.code).toBe('NUMBERS_BAD_ARRAY');
      expect(json.error.message).toContain(`at byte ${offset} (element ${element})`);
      expect(json.error.details).toEqual({ offset, element });
      expect(json.request_id).toBe(res.headers['x-request-id']);
    }
    const empty = await t.app.inject({ method: 'POST', url: '/total' });
    expect(empty.statusCode).toBe(400);
    expect(empty.json<ErrorJson>().error.message).toMatch(/empty input/);
  });

  it('answers 413 past the body limit, declared or streamed, and keeps serving', async () => {
    const big = `[${'1,'.repeat(4000)}1]`;
    const declared = await post(t, big);
    expect(declared.statusCode).toBe(413);
    expect(declared.json<ErrorJson>().error.code).toBe('NUMBERS_BODY_TOO_LARGE');

    // Chunked, no Content-Length: the limit is counted as the body streams in.
    const base = await listen(t.app);
    const streamed = await request(`${base}/total`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Readable.from(
        (function* () {
          yield '[';
          for (let i = 0; i < 100; i++) yield '1,'.repeat(50);
          yield '1]';
        })(),
      ),
    });
    expect(streamed.statusCode).toBe(413);
    expect(((await streamed.body.json()) as ErrorJson).error.code).toBe('NUMBERS_BODY_TOO_LARGE');
    expect((await post(t, '[1]')).body).toBe('{"total":1}');
  });

  it('answers 405 with Allow for other methods and JSON 404 for other paths', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH'] as const) {
      const res = await t.app.inject({ method, url: '/total' });
      expect(res.statusCode).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD, POST');
      expect(res.json<ErrorJson>().error.code).toBe('METHOD_NOT_ALLOWED');
    }
    const missing = await t.app.inject({ url: '/total/more' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/json/);
  });

  it('serves its own upstream: a streamed JSON array with bounds on count and delay', async () => {
    const res = await t.app.inject({ url: '/numbers?count=12' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.json()).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect((await t.app.inject({ url: '/numbers?count=0' })).json()).toEqual([]);
    for (const q of ['count=-1', 'count=100000001', 'count=abc', 'delay_ms=60001', 'other=1']) {
      const bad = await t.app.inject({ url: `/numbers?${q}` });
      expect(bad.statusCode, q).toBe(400);
      expect(bad.json<ErrorJson>().error.code).toBe('VALIDATION_FAILED');
    }
  });

  it('describes its routes in the OpenAPI document', async () => {
    const doc = (await t.app.inject({ url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, unknown>>;
    }>();
    expect(Object.keys(doc.paths['/total'] ?? {})).toEqual(expect.arrayContaining(['get', 'post']));
    expect(doc.paths['/numbers']?.get).toBeDefined();
  });
});

describe('numbers: coalescing and the event loop', () => {
  it('shares one simulated call among 50 concurrent requests', async () => {
    const t = await buildTestApp({ config: { numbers: { delay_ms: 50, count: 1000 } } });
    try {
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => t.app.inject({ url: '/total' })),
      );
      for (const res of answers) expect(res.body).toBe('{"total":499500}');
      const stats = (await t.app.inject({ url: '/numbers/stats' })).json<{
        upstream_calls: number;
        coalesced: number;
      }>();
      expect(stats).toMatchObject({ upstream_calls: 1, coalesced: 49 });
      const metrics = (await t.app.inject({ url: '/metrics' })).body;
      expect(metrics).toMatch(/^numbers_coalesced_requests_total 49$/m);
      expect(metrics).toMatch(/^numbers_summed_total 1000$/m);
      expect(metrics).toMatch(
        /numbers_upstream_duration_seconds_count\{source="simulated",outcome="ok"\} 1/,
      );
    } finally {
      await t.close();
    }
  });

  it('sums 0 … 10,000,000 exactly, giving the event loop back while it runs', async () => {
    const upstream = await buildTestApp({ config: { numbers: { delay_ms: 0 } } });
    const base = await listen(upstream.app);
    const simulated = await buildTestApp({
      config: { numbers: { delay_ms: 0, count: 10_000_001, post_max_bytes: 64 * 1024 * 1024 } },
    });
    const viaHttp = await buildTestApp({
      config: {
        numbers: { source: 'http', upstream_url: `${base}/numbers?count=10000001` },
      },
    });
    // Built from buffers, not one huge string, so no big garbage is left for the GC meanwhile.
    const body = Buffer.concat([...rangeArrayChunks(2_000_000)]);
    const run = () =>
      Promise.all([
        simulated.app.inject({ url: '/total' }),
        viaHttp.app.inject({ url: '/total' }),
        simulated.app.inject({ method: 'POST', url: '/total', payload: body }),
        simulated.app.inject({ url: '/total' }),
      ]);
    // One round first: what is measured is the steady state, not the JIT compiling cold code.
    await run();
    // A timer due every 5 ms counts the turns the event loop gets while the big sums run: a sum
    // done in one go would leave it none. (How late it fires is measured by the bench, not here.)
    let running = true;
    let ticks = 0;
    const turns = new Promise<void>((resolve) => {
      const tick = (): void => {
        ticks++;
        if (!running) {
          resolve();
          return;
        }
        setTimeout(tick, 5);
      };
      setTimeout(tick, 5);
    });
    try {
      const [a, b, c, d] = await run();
      expect(a.body).toBe('{"total":50000005000000}');
      expect(b.body).toBe('{"total":50000005000000}');
      expect(c.body).toBe('{"total":1999999000000}');
      expect(d.body).toBe('{"total":50000005000000}');
    } finally {
      running = false;
      await turns;
      await Promise.all([simulated.close(), viaHttp.close(), upstream.close()]);
    }
    expect(ticks).toBeGreaterThan(10);
  });
});

describe('numbers: the http source against good and bad upstreams', () => {
  let upstream: TestUpstream;
  let t: TestApp;
  beforeAll(async () => {
    upstream = await startUpstream();
    t = await buildTestApp({
      config: {
        numbers: {
          source: 'http',
          upstream_url: upstream.url,
          upstream_timeout_ms: 500,
          upstream_max_bytes: 1024 * 1024,
        },
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  it('sums a good upstream and a slow one that sends in small chunks', async () => {
    upstream.mode = 'ok';
    expect((await t.app.inject({ url: '/total' })).body).toBe('{"total":6}');
    upstream.mode = 'slow';
    expect((await t.app.inject({ url: '/total' })).body).toBe('{"total":60}');
  });

  it('makes one upstream call for 50 concurrent requests', async () => {
    upstream.mode = 'ok';
    let release = (): void => undefined;
    upstream.gate = new Promise((resolve) => {
      release = resolve;
    });
    const before = upstream.calls;
    upstream.expectCall();
    const pending = Array.from({ length: 50 }, () => t.app.inject({ url: '/total' }));
    // The upstream answers only once every request has joined the one call in flight.
    await upstream.called;
    const joined = async (): Promise<number> =>
      (await t.app.inject({ url: '/numbers/stats' })).json<{ coalesced: number }>().coalesced;
    const coalescedBefore = await joined();
    for (let turn = 0; turn < 1000 && (await joined()) - coalescedBefore < 49; turn++) {
      await new Promise((r) => setImmediate(r));
    }
    release();
    const answers = await Promise.all(pending);
    upstream.gate = Promise.resolve();
    for (const res of answers) expect(res.body).toBe('{"total":6}');
    expect(upstream.calls - before).toBe(1);
  });

  const failures: [UpstreamMode, RegExp][] = [
    ['hang', /did not finish within 500 ms/],
    ['truncated-chunked', /truncated/],
    ['truncated-length', /truncated/],
    ['malformed', /not a JSON array of numbers: expected a number but found '"' at byte 5/],
    ['unclosed', /not closed/],
    ['status-500', /answered HTTP 500/],
    ['huge', /longer than 1048576 bytes/],
  ];
  it.each(failures)(
    'answers a clear 502 for a %s upstream and releases its connection',
    async (mode, reason) => {
      upstream.mode = mode;
      const res = await t.app.inject({ url: '/total' });
      expect(res.statusCode).toBe(502);
      const json = res.json<ErrorJson>();
      expect(json.error.code).toBe('NUMBERS_UPSTREAM_FAILED');
      expect(json.error.message).toMatch(reason);
      expect(json.request_id).toBe(res.headers['x-request-id']);
      // A half-read or unanswered call must not keep its connection (complete answers may stay
      // in the keep-alive pool).
      const socket = upstream.lastSocket;
      if (['hang', 'truncated-chunked', 'truncated-length', 'huge'].includes(mode) && socket) {
        // (Not events.once: a reset socket emits 'error' before 'close'.)
        if (!socket.destroyed) await new Promise((resolve) => socket.once('close', resolve));
      }
      // And the service goes on.
      upstream.mode = 'ok';
      expect((await t.app.inject({ url: '/total' })).body).toBe('{"total":6}');
    },
  );

  it('sums the module’s own streamed upstream end to end', async () => {
    const own = await buildTestApp();
    const base = await listen(own.app);
    const client = await buildTestApp({
      config: { numbers: { source: 'http', upstream_url: `${base}/numbers?count=1000001` } },
    });
    try {
      expect((await client.app.inject({ url: '/total' })).body).toBe('{"total":500000500000}');
    } finally {
      await client.close();
      await own.close();
    }
  });

  it('refuses to start with the http source and no URL', async () => {
    await expect(buildTestApp({ config: { numbers: { source: 'http' } } })).rejects.toThrow(
      ConfigError,
    );
  });
});

describe('numbers: the server-side fan-out', () => {
  it('makes n requests at once, streams each answer as a line, and reports the coalescing', async () => {
    const t = await buildTestApp({ config: { numbers: { delay_ms: 300, count: 1000 } } });
    try {
      const base = await listen(t.app);
      const res = await fetch(`${base}/numbers/fan-out?n=16`);
      expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
      const lines = (await res.text())
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toHaveLength(17);
      const answers = lines.slice(0, 16);
      expect(answers.map((a) => a.i).sort((a, b) => Number(a) - Number(b))).toEqual(
        Array.from({ length: 16 }, (_, i) => i + 1),
      );
      for (const a of answers) expect(a).toMatchObject({ status: 200, total: '499500' });
      // Each line carries its time (how long is the bench's business, not a test's).
      for (const a of answers) expect(typeof a.ms).toBe('number');
      const summary = lines[16]!;
      expect(summary).toMatchObject({ done: true, n: 16, upstream_calls: 1, coalesced: 15 });
    } finally {
      await t.close();
    }
  });

  it('runs at most 2 fan-outs at a time, and bounds n', async () => {
    // Each fan-out waits 1.5 s for the upstream: three sent together overlap.
    const t = await buildTestApp({
      config: { numbers: { delay_ms: 1500, count: 10, cache_ttl_ms: 0 } },
    });
    try {
      const base = await listen(t.app);
      const three = await Promise.all(
        [1, 2, 3].map(async () => {
          const res = await fetch(`${base}/numbers/fan-out?n=2`);
          await res.text();
          return [res.status, res.headers.get('retry-after')];
        }),
      );
      expect(three.map(([s]) => s).sort()).toEqual([200, 200, 503]);
      expect(three.find(([s]) => s === 503)?.[1]).toBe('1');
      expect((await fetch(`${base}/numbers/fan-out?n=2`)).status).toBe(200);
      expect((await fetch(`${base}/numbers/fan-out?n=65`)).status).toBe(400);
    } finally {
      await t.close();
    }
  });
});
