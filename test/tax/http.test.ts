import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/modules/tax/tax.auth.js';
import { ADMIN_DATA_2019 } from '../../src/modules/tax/tax.admin-data.js';
import { explainTax } from '../../src/modules/tax/tax.engine.js';
import { buildTestApp, dialects, tempDir, type TestApp } from '../helper.js';
import type { ClientResult } from '../../src/modules/tax/tax.client.js';

const CASES = JSON.parse(
  readFileSync(new URL('../fixtures/tax/expected.json', import.meta.url), 'utf8'),
) as ClientResult[];
const ADMIN = { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` };

const query = (c: Pick<ClientResult, 'married' | 'children' | 'salary'>): string =>
  `married=${c.married}&children=${c.children}&salary=${c.salary}`;
const resultOf = ({ id: _id, ...rest }: ClientResult): Omit<ClientResult, 'id'> => rest;

describe.each(dialects())('tax over HTTP on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
  });
  afterAll(async () => {
    await t.close();
  });

  it('computes the eleven reference cases exactly, with coefficients read back from the database', async () => {
    for (const c of CASES) {
      const res = await t.app.inject({ url: `/tax/?${query(c)}`, headers: ADMIN });
      expect(res.statusCode, `case ${c.id}`).toBe(200);
      expect(res.json(), `case ${c.id}`).toEqual({ response: { result: resultOf(c) } });
    }
  });

  it('gives 200 concurrent mixed taxpayers each their own result', async () => {
    const picks = Array.from({ length: 200 }, (_, i) => CASES[(i * 7) % CASES.length]!);
    const answers = await Promise.all(
      picks.map((c) => t.app.inject({ url: `/tax/?${query(c)}`, headers: ADMIN })),
    );
    answers.forEach((res, i) => {
      expect(res.json<{ response: { result: unknown } }>().response.result).toEqual(
        resultOf(picks[i]!),
      );
    });
  });
});

describe('tax HTTP contract', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('accepts the French parameter names, trimmed and case-insensitive married values', async () => {
    const res = await t.app.inject({
      url: `/tax/?${encodeURI('marié= OUI &enfants=3&salaire=200000')}`,
      headers: ADMIN,
    });
    expect(res.json()).toEqual({ response: { result: resultOf(CASES[10]!) } });
    for (const value of ['no', 'Non', 'NO ']) {
      const r = await t.app.inject({
        url: `/tax/?married=${encodeURIComponent(value)}&children=0&salary=100000`,
        headers: ADMIN,
      });
      expect(r.json<{ response: { result: { married: string } } }>().response.result.married).toBe(
        'no',
      );
    }
  });

  it('lists every problem, in order, with a 400', async () => {
    const cases: [string, string[]][] = [
      [
        'married=yes&children=2',
        [
          'wrong set of parameters: expected married, children and salary',
          'missing parameter: salary',
        ],
      ],
      ['married=maybe&children=2&salary=1', ['married must be yes or no (oui or non)']],
      [
        'married=yes&children=3x&salary=-5',
        [
          'children must be a non-negative integer (at most 99)',
          'salary must be a non-negative integer (at most 1000000000)',
        ],
      ],
      [
        'married=yes&children=2&salary=1&bonus=3&x=1',
        [
          'wrong set of parameters: expected married, children and salary',
          'unknown parameter: bonus',
          'unknown parameter: x',
        ],
      ],
      [
        '',
        [
          'wrong set of parameters: expected married, children and salary',
          'missing parameter: married',
          'missing parameter: children',
          'missing parameter: salary',
        ],
      ],
      ['married=yes&married=no&children=1&salary=1', ['married must be yes or no (oui or non)']],
      [
        'married=yes&children=1.5&salary=1e6',
        [
          'children must be a non-negative integer (at most 99)',
          'salary must be a non-negative integer (at most 1000000000)',
        ],
      ],
    ];
    for (const [q, errors] of cases) {
      const res = await t.app.inject({ url: `/tax/?${q}`, headers: ADMIN });
      expect([res.statusCode, res.json()], q).toEqual([400, { response: { errors } }]);
    }
  });

  it('asks for credentials with 401 and WWW-Authenticate, and says apart wrong ones', async () => {
    for (const [headers, message] of [
      [{}, 'authentication required'],
      [
        { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` },
        'wrong user name or password',
      ],
      [
        { authorization: `Basic ${Buffer.from('nobody:admin').toString('base64')}` },
        'wrong user name or password',
      ],
      [{ authorization: 'Bearer x' }, 'authentication required'],
    ] as const) {
      const res = await t.app.inject({ url: `/tax/?${query(CASES[0]!)}`, headers });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="Agora tax", charset="UTF-8"');
      expect(res.json()).toEqual({ response: { errors: [message] } });
      expect(res.headers['x-request-id']).toBeTruthy();
    }
  });

  it('tells the page about the demo account while no user is configured', async () => {
    expect((await t.app.inject({ url: '/tax/demo-account' })).json()).toEqual({
      active: true,
      user: 'admin',
      password: 'admin',
    });
  });

  it('explains a result on request (`explain=true`), and refuses another value of explain', async () => {
    for (const c of CASES) {
      const res = await t.app.inject({ url: `/tax/?${query(c)}&explain=true`, headers: ADMIN });
      const body = res.json<{
        response: { result: unknown; explanation: Record<string, unknown> };
      }>();
      expect(body.response.result, `case ${c.id}`).toEqual(resultOf(c));
      expect(body.response.explanation, `case ${c.id}`).toEqual(
        explainTax(ADMIN_DATA_2019, {
          married: c.married === 'yes',
          children: c.children,
          salary: c.salary,
        }),
      );
    }
    const plain = await t.app.inject({
      url: `/tax/?${query(CASES[0]!)}&explain=false`,
      headers: ADMIN,
    });
    expect(plain.json()).toEqual({ response: { result: resultOf(CASES[0]!) } });
    const bad = await t.app.inject({
      url: `/tax/?${query(CASES[0]!)}&explain=yes`,
      headers: ADMIN,
    });
    expect([bad.statusCode, bad.json()]).toEqual([
      400,
      { response: { errors: ['`explain` must be true or false'] } },
    ]);
  });

  it('leaves out the Basic challenge for scripts that say they are scripts (no browser login dialog)', async () => {
    const res = await t.app.inject({
      url: `/tax/?${query(CASES[0]!)}`,
      headers: { 'x-requested-with': 'XMLHttpRequest' },
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBeUndefined();
  });

  it('refuses a client after too many wrong passwords, before hashing, and no one else', async () => {
    const limited = await buildTestApp({ config: { tax: { login_failures: 3 } } });
    try {
      const attempt = (password: string | null, remoteAddress: string) =>
        limited.app.inject({
          url: `/tax/?${query(CASES[0]!)}`,
          remoteAddress,
          headers:
            password === null
              ? {}
              : { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` },
        });
      // Requests without credentials (a browser's first) are not failures.
      for (let i = 0; i < 5; i++) expect((await attempt(null, '203.0.113.7')).statusCode).toBe(401);
      for (let i = 0; i < 3; i++)
        expect((await attempt(`guess${i}`, '203.0.113.7')).statusCode).toBe(401);
      for (const password of ['guess9', 'admin']) {
        const res = await attempt(password, '203.0.113.7');
        expect(res.statusCode).toBe(429);
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
        expect(res.json()).toEqual({
          response: { errors: ['too many failed logins from this client; try again later'] },
        });
      }
      // Another client is judged on its own, and a success clears its count.
      expect((await attempt('guess', '203.0.113.8')).statusCode).toBe(401);
      expect((await attempt('guess', '203.0.113.8')).statusCode).toBe(401);
      expect((await attempt('admin', '203.0.113.8')).statusCode).toBe(200);
      expect((await attempt('guess', '203.0.113.8')).statusCode).toBe(401);
      expect((await attempt('guess', '203.0.113.8')).statusCode).toBe(401);
      expect((await attempt('guess', '203.0.113.8')).statusCode).toBe(401);
      expect((await attempt('guess', '203.0.113.8')).statusCode).toBe(429);
    } finally {
      await limited.close();
    }
  });

  it('computes a batch in input order with per-item errors', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/tax/batch',
      headers: ADMIN,
      payload: [
        { married: 'yes', children: 2, salary: 55555 },
        { married: 'perhaps', children: 2, salary: 1 },
        { marié: 'non', enfants: '0', salaire: '200000' },
      ],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      response: {
        results: [
          { result: resultOf(CASES[0]!) },
          { errors: ['married must be yes or no (oui or non)'] },
          { result: resultOf(CASES[9]!) },
        ],
      },
    });
    const notArray = await t.app.inject({
      method: 'POST',
      url: '/tax/batch',
      headers: ADMIN,
      payload: { married: 'yes' },
    });
    expect(notArray.statusCode).toBe(400);
    expect(Object.keys(notArray.json<object>())).toEqual(['response']);
  });

  it('answers unknown routes under its prefix in its envelope', async () => {
    const res = await t.app.inject({ url: '/tax/nothing' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ response: { errors: ['Route GET /tax/nothing not found'] } });
  });
});

describe('tax configured for the original client', () => {
  let t: TestApp;
  const auditFile = path.join(tempDir(), 'audit.log');
  beforeAll(async () => {
    t = await buildTestApp({
      config: {
        prefixes: { tax: '/' },
        tax: {
          french_keys: true,
          users: { alice: await hashPassword('s3cret pass', { N: 1024, r: 8, p: 1 }) },
          audit_file: auditFile,
        },
      },
    });
  });
  afterAll(async () => {
    await t.close();
  });
  const ALICE = { authorization: `Basic ${Buffer.from('alice:s3cret pass').toString('base64')}` };

  it('answers at / with French keys, for configured users only', async () => {
    // Users are configured: the page is told there is no demo account to hint.
    expect((await t.app.inject({ url: '/demo-account' })).json()).toEqual({ active: false });
    const res = await t.app.inject({
      url: `/?${encodeURI('marié=oui&enfants=3&salaire=200000')}`,
      headers: ALICE,
    });
    expect(res.json()).toEqual({
      réponse: {
        result: {
          marié: 'oui',
          enfants: 3,
          salaire: 200000,
          impôt: 42842,
          surcôte: 17283,
          taux: 0.41,
          décôte: 0,
          réduction: 0,
        },
      },
    });
    const admin = await t.app.inject({
      url: `/?${encodeURI('marié=oui&enfants=3&salaire=200000')}`,
      headers: ADMIN,
    });
    expect(admin.statusCode).toBe(401);
    expect(admin.json()).toEqual({
      réponse: { erreurs: ['utilisateur ou mot de passe incorrect'] },
    });
    const bad = await t.app.inject({ url: '/?enfants=x', headers: ALICE });
    // The original server's texts, in its order.
    expect(bad.json<{ réponse: { erreurs: string[] } }>().réponse.erreurs).toEqual([
      'Méthode GET requise avec les seuls paramètres [marié, enfants, salaire]',
      'paramètre [marié] manquant',
      'paramètre [salaire] manquant',
      'paramètre enfants [x] invalide',
    ]);
  });

  it('writes one audit line per request to its file, without the password', async () => {
    const res = await t.app.inject({
      url: `/?${encodeURI('marié=non&enfants=0&salaire=100000')}`,
      headers: ALICE,
    });
    expect(res.statusCode).toBe(200);
    // Audit lines are written synchronously: the line is in the file when the answer is.
    const text = readFileSync(auditFile, 'utf8');
    const line = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.req_id === res.headers['x-request-id']);
    expect(line).toMatchObject({
      audit: 'tax',
      user: 'alice',
      status: 200,
      result: { tax: 22986 },
    });
    expect(text).not.toContain('s3cret');
  });

  it('writes the parameters as given, escaped, a repeated one as an array, and why it refused', async () => {
    // Quotes, a backslash, a control character, accents, an emoji; bytes that are not UTF-8
    // (kept as sent); a repeated parameter.
    const odd = '"a\\b\u0001é€😀';
    const married = encodeURIComponent('marié');
    const query = `${married}=${encodeURIComponent(odd)}&${married}=non&enfants=%ED%A0%80&salaire=1&autre=2`;
    const refused = await t.app.inject({ url: `/?${query}`, headers: ALICE });
    const computed = await t.app.inject({
      url: `/?${encodeURI('marié=non&enfants=0&salaire=100000')}`,
      headers: ALICE,
    });
    expect([refused.statusCode, computed.statusCode]).toEqual([400, 200]);
    const lines = readFileSync(auditFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const of = (id: unknown) => lines.find((l) => l.req_id === id);
    expect(of(refused.headers['x-request-id'])).toEqual({
      level: 30,
      time: expect.any(Number) as unknown,
      pid: process.pid,
      node: expect.any(String) as unknown,
      audit: 'tax',
      req_id: refused.headers['x-request-id'],
      method: 'GET',
      url: `/?${query}`,
      user: 'alice',
      status: 400,
      ms: expect.any(Number) as unknown,
      params: { marié: [odd, 'non'], enfants: '%ED%A0%80', salaire: '1', autre: '2' },
      errors: refused.json<{ réponse: { erreurs: string[] } }>().réponse.erreurs,
      msg: 'tax request refused',
    });
    expect(of(computed.headers['x-request-id'])).toMatchObject({
      msg: 'tax computed',
      status: 200,
      params: { marié: 'non', enfants: '0', salaire: '100000' },
      result: { tax: 22986, surcharge: 0, rate: 0.41, discount: 0, reduction: 0 },
    });
  });
});

describe("tax in the original's profile (tax.compat), mounted at /", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ config: { prefixes: { tax: '/' }, tax: { compat: true } } });
  });
  afterAll(async () => {
    await t.close();
  });
  const q = (query: string) => `/?${encodeURI(query)}`;

  it("answers a missing or wrong login with the original's 401: HTML body, its realm", async () => {
    for (const headers of [{}, { authorization: 'Basic eDp5' }]) {
      const res = await t.app.inject({ url: q('marié=oui&enfants=3&salaire=200000'), headers });
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toBe('Unauthorized Access');
      expect(res.headers['www-authenticate']).toBe(
        'Basic realm="Authentication Required", charset="UTF-8"',
      );
      expect(res.headers['x-request-id']).toBeTruthy();
    }
  });

  it("lists the original's French texts, and takes the first of a repeated parameter", async () => {
    const bad = await t.app.inject({
      url: q('marié=peut-être&enfants=-1&salaire=3x'),
      headers: ADMIN,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({
      réponse: {
        erreurs: [
          'paramètre marié [peut-être] invalide',
          'paramètre enfants [-1] invalide',
          'paramètre salaire [3x] invalide',
        ],
      },
    });
    const unknown = await t.app.inject({
      url: q('marié=oui&enfants=3&salaire=1&x=1'),
      headers: ADMIN,
    });
    expect(unknown.json()).toEqual({
      réponse: {
        erreurs: ['Méthode GET requise avec les seuls paramètres [marié, enfants, salaire]'],
      },
    });
    const repeated = await t.app.inject({
      url: q('marié=oui&marié=non&enfants=3&salaire=200000'),
      headers: ADMIN,
    });
    expect(repeated.statusCode).toBe(200);
    expect(repeated.json()).toMatchObject({ réponse: { result: { marié: 'oui', impôt: 42842 } } });
  });

  it("keeps each module's error envelope under its own paths, and the core's on its routes", async () => {
    const tax = await t.app.inject({ url: '/nothing' });
    expect(tax.json()).toEqual({ réponse: { erreurs: ['Route GET /nothing not found'] } });
    const market = await t.app.inject({ url: '/market/nothing' });
    expect(market.json()).toMatchObject({ error: 'Route GET /market/nothing not found' });
    for (const url of [
      '/images/nothing/at/all',
      '/queue/nothing',
      '/storage/x/y',
      '/admin/nothing',
      '/api/nothing',
    ]) {
      const res = await t.app.inject({ url });
      expect(res.statusCode).toBe(404);
      expect(res.json<{ error: { code: string } }>().error.code).toBe('NOT_FOUND');
    }
    const total = await t.app.inject({ method: 'PUT', url: '/total' });
    expect(total.json<{ error: { code: string } }>().error).toBeDefined();
  });
});
