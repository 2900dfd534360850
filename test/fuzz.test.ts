/**
 * Property-based fuzzing of every operation in `/openapi.json` with fast-check: random path
 * parameters (escaped or not), query strings, headers and bodies of every kind. Whatever comes
 * in, the answer is never a 5xx, always carries an `X-Request-Id`, and every error is JSON in the
 * envelope of its route, with the request id wherever the envelope has a place for it.
 */
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './helper.js';

interface Operation {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  parameters: { in: 'path' | 'query' | 'header'; name: string }[];
  streams: boolean;
}

/** Every operation of the document, with what it takes. */
function operations(doc: { paths: Record<string, Record<string, unknown>> }): Operation[] {
  const out: Operation[] = [];
  for (const [path, byMethod] of Object.entries(doc.paths)) {
    for (const [method, raw] of Object.entries(byMethod)) {
      const op = raw as {
        parameters?: { in: string; name: string }[];
        responses?: Record<string, { content?: Record<string, unknown> }>;
      };
      const streams = Object.values(op.responses ?? {}).some(
        (r) => r.content !== undefined && 'text/event-stream' in r.content,
      );
      out.push({
        method: method.toUpperCase() as Operation['method'],
        path,
        parameters: (op.parameters ?? []).filter(
          (p): p is Operation['parameters'][number] =>
            p.in === 'path' || p.in === 'query' || p.in === 'header',
        ),
        streams,
      });
    }
  }
  return out;
}

/** Text a client might put anywhere: ordinary, numeric, hostile. */
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom(
    '',
    '0',
    '-1',
    '1',
    '9'.repeat(40),
    '1e999',
    'NaN',
    'null',
    'true',
    '..',
    '../../etc/passwd',
    '%',
    '%zz',
    '%00',
    '猫.png',
    'A00',
    "' or 1=1 --",
    '<script>',
    'x'.repeat(600),
  ),
);

/** A path segment: escaped properly, or raw (a bad `%` escape is part of the test). */
const segment = fc.oneof(
  text.map((s) => encodeURIComponent(s)),
  text.map((s) => s.replace(/[/?#\s]/g, '')),
);

const contentType = fc.constantFrom(
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'multipart/form-data; boundary=xyz',
  'image/png',
  'application/octet-stream',
  'application/xml',
);

const body = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  fc.constantFrom('{', '[1,2', '{"amount":1,"credit_card":4242424242424242}', '[]', '{}'),
);

const headerValue = fc.oneof(
  fc.string({ maxLength: 60 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
  fc.constantFrom(
    'Basic YWRtaW46YWRtaW4=',
    'Basic YWRtaW46bm9wZQ==',
    'Bearer x',
    'Basic !!!',
    'text/html',
  ),
);

interface Request {
  url: string;
  headers: Record<string, string>;
  payload: string | Buffer | undefined;
}

/** Requests for `op`; `known` are ids that exist (an image, a product), `image` a real PNG. */
function requestFor(op: Operation, known: string[], image: Buffer): fc.Arbitrary<Request> {
  const pathNames = op.parameters.filter((p) => p.in === 'path').map((p) => p.name);
  const queryNames = op.parameters.filter((p) => p.in === 'query').map((p) => p.name);
  return fc
    .record({
      path: fc.tuple(
        ...pathNames.map(() =>
          fc.oneof(
            segment,
            fc.constantFrom(...known),
            fc.constantFrom(...known.map((k) => `${k}.webp`)),
          ),
        ),
      ),
      query: fc.array(
        fc.tuple(fc.oneof(fc.constantFrom(...queryNames, 'x', 'format', 'w'), fc.string()), text),
        { maxLength: 4 },
      ),
      type: contentType,
      payload: fc.oneof(body, fc.constant(image)),
      accept: fc.constantFrom(undefined, 'application/json', 'text/html', '*/*'),
      authorization: fc.option(headerValue, { nil: undefined }),
      idempotency: fc.option(headerValue, { nil: undefined }),
      filename: fc.option(headerValue, { nil: undefined }),
    })
    .map((r) => {
      let url = op.path;
      pathNames.forEach((name, i) => {
        url = url.replace(`{${name}}`, r.path[i] ?? '');
      });
      const qs = r.query
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
        .join('&');
      const headers: Record<string, string> = {};
      if (r.type !== undefined) headers['content-type'] = r.type;
      if (r.accept !== undefined) headers.accept = r.accept;
      if (r.authorization !== undefined) headers.authorization = r.authorization;
      if (r.idempotency !== undefined) headers['idempotency-key'] = r.idempotency;
      if (r.filename !== undefined) headers['x-filename'] = r.filename;
      return {
        url: qs ? `${url}?${qs}` : url,
        headers,
        payload: op.method === 'GET' ? undefined : r.payload,
      };
    });
}

async function check(app: FastifyInstance, op: Operation, request: Request): Promise<void> {
  const res = await app.inject({
    method: op.method,
    url: request.url,
    headers: request.headers,
    ...(request.payload === undefined ? {} : { payload: request.payload }),
  });
  const where = `${op.method} ${request.url} ${JSON.stringify(request.headers)} → ${res.statusCode} ${res.body.slice(0, 200)}`;
  expect(res.statusCode, where).toBeLessThan(500);
  const id = res.headers['x-request-id'];
  expect(typeof id === 'string' && id.length > 0, where).toBe(true);
  if (res.statusCode >= 400) {
    // A browser's navigation (GET asking for HTML first) may get the error as a page, which
    // quotes the request id; everyone else gets JSON.
    if (String(res.headers['content-type']).startsWith('text/html')) {
      expect(op.method === 'GET' && request.headers.accept === 'text/html', where).toBe(true);
      expect(res.body, where).toContain(`<code>${String(id)}</code>`);
      return;
    }
    expect(res.headers['content-type'], where).toMatch(/^application\/json/);
    const json = JSON.parse(res.body) as Record<string, unknown>;
    // Agora's envelope and the market's carry the id; the tax module's original envelope has no
    // place for it (the header carries it).
    if ('request_id' in json) expect(json.request_id, where).toBe(id);
    if ('exe_id' in json) expect(json.exe_id, where).toBe(id);
    expect('request_id' in json || 'exe_id' in json || 'response' in json, where).toBe(true);
  }
}

describe('every operation of the OpenAPI document, fuzzed', () => {
  let t: TestApp;
  let ops: Operation[];
  let known: string[];
  let image: Buffer;
  beforeAll(async () => {
    t = await buildTestApp({
      config: {
        numbers: { delay_ms: 0, count: 1000, max_count: 1000 },
        images: { max_bytes: 100_000 },
        tax: { login_failures: 1_000_000 },
      },
    });
    const doc = (await t.app.inject({ url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, unknown>>;
    }>();
    // Event streams never end by themselves; the realtime suites cover them.
    ops = operations(doc).filter((op) => !op.streams);
    image = await sharp({
      create: { width: 24, height: 16, channels: 3, background: { r: 200, g: 40, b: 40 } },
    })
      .png()
      .toBuffer();
    const uploaded = await t.app.inject({
      method: 'POST',
      url: '/images',
      headers: { 'content-type': 'image/png' },
      payload: image,
    });
    known = [uploaded.json<{ id: string }>().id, '1', '3', 'A00'];
  });
  afterAll(async () => {
    await t.close();
  });

  it('covers the whole document', () => {
    expect(ops.length).toBeGreaterThanOrEqual(40);
  });

  it('never answers 5xx, always with a request id, errors in the route’s JSON envelope', async () => {
    for (const op of ops) {
      await fc.assert(
        fc.asyncProperty(requestFor(op, known, image), (request) => check(t.app, op, request)),
        { numRuns: Number(process.env.AGORA_FUZZ_RUNS ?? 100) },
      );
    }
  }, 120_000);
});
