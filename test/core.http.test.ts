import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './helper.js';
import { echoModule } from './fixtures/echo-module.js';

let t: TestApp;

beforeAll(async () => {
  t = await buildTestApp({ config: { body_limit: 4096 }, build: { modules: [echoModule] } });
});
afterAll(async () => {
  await t.close();
});

describe('request ids', () => {
  it('puts a fresh X-Request-Id on every response', async () => {
    const a = await t.app.inject({ url: '/healthz' });
    const b = await t.app.inject({ url: '/healthz' });
    expect(a.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
  });

  it('reuses a well-formed incoming id and replaces a malformed one', async () => {
    const reused = await t.app.inject({
      url: '/healthz',
      headers: { 'x-request-id': 'lb-1234abcd' },
    });
    expect(reused.headers['x-request-id']).toBe('lb-1234abcd');
    const replaced = await t.app.inject({
      url: '/healthz',
      headers: { 'x-request-id': 'bad id\u0000<script>' },
    });
    expect(replaced.headers['x-request-id']).not.toContain('script');
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('per-request work', () => {
  /** The hooks Fastify runs for `GET <path>`, from its printed route tree. */
  const getHooks = (printed: string, name: string): string[] => {
    const lines = printed.split('\n').map((l) => l.replace(/^[\s│├└─]+/, ''));
    const at = lines.findIndex((l) => l.startsWith(`${name} (GET`));
    if (at < 0) throw new Error(`no GET ${name} in the route tree`);
    const hooks: string[] = [];
    for (const line of lines.slice(at + 1)) {
      if (!line.startsWith('•')) break;
      hooks.push(line);
    }
    return hooks;
  };

  it('runs no hook on a light route: the core works through requestEvents instead', async () => {
    const printed = t.app.printRoutes({ includeHooks: true, commonPrefix: false });
    // Checked against one route that has a hook: the reading of the tree finds hooks.
    expect(getHooks(printed, 'ws')).not.toEqual([]);
    expect(getHooks(printed, 'healthz')).toEqual([]);
    expect(getHooks(printed, 'readyz')).toEqual([]);
    // Still done on every answer: the id header (above) and the duration metric.
    await t.app.inject({ url: '/healthz' });
    const metrics = await t.app.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(
      /http_server_request_duration_seconds_count\{method="GET",route="\/healthz",status_code="200"\} [1-9]/,
    );
  });
});

describe('errors in a browser', () => {
  const navigation = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

  it('answers a mistyped URL with an HTML page: status, what happened, request id, a way back', async () => {
    const res = await t.app.inject({
      url: "/nope/it's&<b>",
      headers: { accept: navigation },
    });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toContain('<title>404 Not Found · Agora</title>');
    expect(res.body).toContain('<meta name="viewport"');
    expect(res.body).toContain(`<code>${String(res.headers['x-request-id'])}</code>`);
    expect(res.body).toContain('<a href="/">Back to Agora</a>');
    // The path is shown as text, never as markup.
    expect(res.body).toContain('/nope/it&#39;s&#38;');
    expect(res.body).not.toContain('<b>');
  });

  it('shows an unexpected failure as a 500 page that leaks nothing', async () => {
    const res = await t.app.inject({ url: '/echo/boom', headers: { accept: navigation } });
    expect(res.statusCode).toBe(500);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('<h1>500 Internal Server Error</h1>');
    expect(res.body).toContain('<p>Internal server error</p>');
    expect(res.body).not.toContain('secret');
    expect(res.body).not.toContain('/srv');
  });

  it('keeps JSON for scripts, API clients and anything but a GET', async () => {
    for (const accept of ['*/*', 'application/json', 'application/json, text/html']) {
      const res = await t.app.inject({ url: '/nope', headers: { accept } });
      expect(res.headers['content-type'], accept).toMatch(/^application\/json/);
    }
    const post = await t.app.inject({
      method: 'POST',
      url: '/nope',
      headers: { accept: navigation },
    });
    expect(post.headers['content-type']).toMatch(/^application\/json/);
  });
});

describe('errors are JSON for API clients', () => {
  it('answers an unknown route with a 404 JSON error carrying the request id', async () => {
    const res = await t.app.inject({ url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json<{ error: { code: string }; request_id: string }>();
    expect(body.error.code).toBe('NOT_FOUND');
    expect(body.request_id).toBe(res.headers['x-request-id']);
  });

  it('answers a wrong method with 405 and an Allow header', async () => {
    const res = await t.app.inject({ method: 'DELETE', url: '/healthz' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    expect(res.json<{ error: { code: string } }>().error.code).toBe('METHOD_NOT_ALLOWED');
    const post = await t.app.inject({ method: 'GET', url: '/admin/events' });
    expect(post.statusCode).toBe(405);
    expect(post.headers.allow).toBe('POST');
  });

  it('answers malformed JSON with 400', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/admin/events',
      headers: { 'content-type': 'application/json' },
      payload: '{"topic": ',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ error: { code: string } }>().error.code).toBe('BAD_JSON');
  });

  it('answers a body over the limit with 413', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/echo/items',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(10_000), count: 1 }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({
      error: 'Request body is too large',
      exe_id: res.headers['x-request-id'],
    });
  });

  it('answers an unexpected failure with a generic 500 that leaks nothing', async () => {
    const res = await t.app.inject({ url: '/echo/boom' });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('secret');
    expect(res.body).not.toContain('/srv');
    expect(res.json()).toEqual({
      error: 'Internal server error',
      exe_id: res.headers['x-request-id'],
    });
  });

  it('renders an AppError with its status, message and headers', async () => {
    const res = await t.app.inject({ url: '/echo/teapot' });
    expect(res.statusCode).toBe(418);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json<{ error: string }>().error).toBe('I am a teapot');
  });
});

describe('module envelopes', () => {
  it("use the module's envelope for unknown paths and wrong methods under its prefix", async () => {
    const unknown = await t.app.inject({ url: '/echo/missing' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({
      error: 'Route GET /echo/missing not found',
      exe_id: unknown.headers['x-request-id'],
    });
    const wrong = await t.app.inject({ method: 'PUT', url: '/echo/items' });
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers.allow).toBe('POST');
    expect(wrong.json<{ exe_id: string }>().exe_id).toBe(wrong.headers['x-request-id']);
  });

  it('does not apply to look-alike prefixes', async () => {
    const res = await t.app.inject({ url: '/echoes' });
    expect(res.json<{ error: { code: string } }>().error.code).toBe('NOT_FOUND');
  });

  it('validates bodies strictly: no type coercion, no unknown fields', async () => {
    const ok = await t.app.inject({
      method: 'POST',
      url: '/echo/items',
      payload: { name: 'a', count: 2 },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({
      data: { name: 'a', count: 2 },
      exe_id: ok.headers['x-request-id'],
    });
    for (const payload of [
      { name: 'a', count: '2' },
      { name: 'a', count: 2, extra: true },
      { name: 'a' },
      [1, 2],
    ]) {
      const res = await t.app.inject({ method: 'POST', url: '/echo/items', payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json<{ exe_id: string }>().exe_id).toBe(res.headers['x-request-id']);
    }
  });

  it("runs the module's migrations", async () => {
    const tables = await t.app.db.introspection.getTables();
    expect(tables.map((x) => x.name)).toEqual(
      expect.arrayContaining(['echo_notes', 'migrations_echo', 'agora_meta']),
    );
  });
});

describe('health, metrics and docs', () => {
  it('reports liveness and readiness', async () => {
    expect((await t.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await t.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ok', checks: { database: 'ok', bus: 'ok' } });
  });

  it('samples the event-loop delay every millisecond, so an idle loop reads about 1 ms', async () => {
    const minimum = async (): Promise<number> => {
      const body = (await t.app.inject({ url: '/metrics' })).body;
      return Number(/^nodejs_eventloop_lag_min_seconds (\S+)$/m.exec(body)?.[1]);
    };
    // A sample is a whole sampling interval at least: with 10 ms sampling no window could ever
    // hold one under 9 ms, and this waits (turn by turn, each scrape a new window) until the
    // test times out. A busy machine only delays the first such window; it cannot fail the test.
    let min = await minimum();
    while (!(min > 0 && min < 0.009)) {
      await new Promise((resolve) => setTimeout(resolve, 2));
      min = await minimum();
    }
    expect(min).toBeLessThan(0.009);
  });

  it('exposes the request histogram by route template, plus process and event-loop metrics', async () => {
    await t.app.inject({ method: 'POST', url: '/echo/items', payload: { name: 'b', count: 1 } });
    await t.app.inject({ url: '/nope/123' });
    const res = await t.app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toMatch(
      /http_server_request_duration_seconds_count\{method="POST",route="\/echo\/items",status_code="200"\} [1-9]/,
    );
    expect(res.body).toMatch(
      /http_server_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="<unmatched>",status_code="404"\}/,
    );
    expect(res.body).not.toContain('/nope/123');
    expect(res.body).toContain('# TYPE http_server_request_duration_seconds histogram');
    // Buckets are cumulative, in order, and +Inf holds every request of the series.
    const series = 'method="GET",route="<unmatched>",status_code="404"';
    const buckets = [
      ...res.body.matchAll(
        new RegExp(`_bucket\\{le="([^"]+)",${series.replaceAll('"', '\\"')}\\} (\\d+)`, 'g'),
      ),
    ].map((m) => [m[1], Number(m[2])] as const);
    expect(buckets.map(([le]) => le)).toEqual([
      '0.0005',
      '0.001',
      '0.0025',
      '0.005',
      '0.01',
      '0.025',
      '0.05',
      '0.1',
      '0.25',
      '0.5',
      '1',
      '2.5',
      '5',
      '10',
      '+Inf',
    ]);
    const counts = buckets.map(([, n]) => n);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    const total = new RegExp(`_count\\{${series}\\} (\\d+)`).exec(res.body)?.[1];
    expect(counts.at(-1)).toBe(Number(total));
    expect(Number(total)).toBeGreaterThanOrEqual(1);
    expect(res.body).toMatch(new RegExp(`_sum\\{${series}\\} [0-9.e-]+`));
    expect(res.body).toContain('nodejs_eventloop_lag_p99_seconds');
    expect(res.body).toContain('process_resident_memory_bytes');
  });

  it('serves the OpenAPI document generated from the route schemas, and the docs UI', async () => {
    const spec = (await t.app.inject({ url: '/openapi.json' })).json<{
      openapi: string;
      paths: Record<string, unknown>;
    }>();
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/healthz', '/readyz', '/events', '/echo/items', '/admin/events']),
    );
    for (const url of ['/docs', '/docs/']) {
      const ui = await t.app.inject({ url });
      expect(ui.statusCode).toBe(200);
      expect(ui.headers['content-type']).toMatch(/text\/html/);
      expect(ui.body).toContain('<h1>API reference</h1>');
      expect(ui.body).toContain('name="viewport"');
      expect(ui.headers['cache-control']).toBe('no-cache');
    }
  });

  it('sends the docs compressed and cacheable: pre-compressed files, immutable assets, an ETag', async () => {
    const page = await t.app.inject({ url: '/docs', headers: { 'accept-encoding': 'gzip, br' } });
    expect(page.headers['content-encoding']).toBe('br');
    expect(page.headers['cache-control']).toBe('no-cache');
    const script = /<script type="module" crossorigin src="([^"]+)"/.exec(
      (await t.app.inject({ url: '/docs' })).body,
    )?.[1];
    expect(script).toMatch(/^\/assets\/docs-.+\.js$/);
    const asset = await t.app.inject({ url: script!, headers: { 'accept-encoding': 'gzip' } });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-encoding']).toBe('gzip');
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(gunzipSync(asset.rawPayload).toString()).toContain('openapi.json');

    const plain = await t.app.inject({ url: '/openapi.json' });
    const zipped = await t.app.inject({
      url: '/openapi.json',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.rawPayload.length).toBeLessThan(plain.rawPayload.length / 3);
    expect(gunzipSync(zipped.rawPayload).toString()).toBe(plain.body);
    const etag = plain.headers.etag;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await t.app.inject({
      url: '/openapi.json',
      headers: { 'if-none-match': String(etag) },
    });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('lists the enabled modules for the landing page', async () => {
    const info = (await t.app.inject({ url: '/api/info' })).json<{
      modules: { name: string; page: string | null }[];
    }>();
    expect(info.modules).toEqual([expect.objectContaining({ name: 'echo', page: '/echo/' })]);
  });
});

describe('admin guard', () => {
  it('admits loopback clients when no admin token is configured', async () => {
    const res = await t.app.inject({ url: '/admin/config', remoteAddress: '127.0.0.1' });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ port: number }>().port).toBe(0);
  });

  it('refuses other clients when no admin token is configured', async () => {
    const res = await t.app.inject({ url: '/admin/config', remoteAddress: '203.0.113.9' });
    expect(res.statusCode).toBe(403);
    expect(res.json<{ error: { code: string } }>().error.code).toBe('ADMIN_LOOPBACK_ONLY');
  });
});

describe('admin guard with a token', () => {
  let withToken: TestApp;
  beforeAll(async () => {
    withToken = await buildTestApp({ config: { admin_token: 'correct-horse-battery' } });
  });
  afterAll(async () => {
    await withToken.close();
  });

  it('requires the bearer token, even from loopback', async () => {
    const none = await withToken.app.inject({ url: '/admin/config' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    const wrong = await withToken.app.inject({
      url: '/admin/config',
      headers: { authorization: 'Bearer correct-horse' },
    });
    expect(wrong.statusCode).toBe(401);
    const right = await withToken.app.inject({
      url: '/admin/config',
      remoteAddress: '203.0.113.9',
      headers: { authorization: 'Bearer correct-horse-battery' },
    });
    expect(right.statusCode).toBe(200);
    expect(right.body).not.toContain('correct-horse-battery');
  });
});
