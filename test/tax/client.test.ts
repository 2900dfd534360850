import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTaxpayers, requestFailed } from '../../src/modules/tax/tax.client.js';
import { buildTestApp, listen, tempDir, type TestApp } from '../helper.js';
import { runCli } from '../process.js';

const DATA = fileURLToPath(new URL('../fixtures/tax/', import.meta.url));
const TAXPAYERS = path.join(DATA, 'taxpayers.txt');
const expected: unknown = JSON.parse(readFileSync(path.join(DATA, 'expected.json'), 'utf8'));

describe('the taxpayers file', () => {
  it('yields ids 1–11 and reports the malformed lines by their real line numbers', () => {
    const { lines, errors } = parseTaxpayers(readFileSync(TAXPAYERS, 'utf8'));
    expect(lines.map((l) => l.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    // Counting every line from 1 (the comment is line 1, the blank line 13).
    expect(errors.map((e) => e.line)).toEqual([14, 15, 16]);
  });
});

describe('agora tax-client against a running server', () => {
  let t: TestApp;
  let url: string;
  beforeAll(async () => {
    t = await buildTestApp();
    url = `${await listen(t.app)}/tax`;
  });
  afterAll(async () => {
    await t.close();
  });

  it.each([[[] as string[]], [['--batch']]])(
    'writes results.json equal to expected.json and errors.txt with the bad lines (%j)',
    async (extra) => {
      const dir = tempDir();
      const out = path.join(dir, 'results.json');
      const errs = path.join(dir, 'errors.txt');
      const res = await runCli([
        'tax-client',
        TAXPAYERS,
        '--url',
        url,
        '--concurrency',
        '4',
        '--out',
        out,
        '--errors',
        errs,
        ...extra,
      ]);
      expect(res.code, res.stderr).toBe(1); // some lines failed
      expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(expected);
      const errorLines = readFileSync(errs, 'utf8').trim().split('\n');
      expect(errorLines.map((l) => /^Line (\d+), /.exec(l)?.[1])).toEqual(['14', '15', '16']);
      expect(res.stdout).toMatch(/11 computed, 3 failed/);
    },
  );

  it('reports failed requests line by line (wrong password)', async () => {
    const dir = tempDir();
    const res = await runCli(
      [
        'tax-client',
        TAXPAYERS,
        '--url',
        url,
        '--out',
        path.join(dir, 'r.json'),
        '--errors',
        path.join(dir, 'e.txt'),
      ],
      { AGORA_TAX_PASSWORD: 'wrong' },
    );
    expect(res.code).toBe(1);
    const lines = readFileSync(path.join(dir, 'e.txt'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(14);
    expect(lines[0]).toBe('Line 2, HTTP 401: authentication required');
    expect(JSON.parse(readFileSync(path.join(dir, 'r.json'), 'utf8'))).toEqual([]);
  });

  it('says why a request got no answer (nothing listening)', async () => {
    const closed = await buildTestApp();
    const gone = await listen(closed.app);
    await closed.close();
    const dir = tempDir();
    const res = await runCli([
      'tax-client',
      TAXPAYERS,
      '--url',
      gone,
      '--out',
      path.join(dir, 'r.json'),
      '--errors',
      path.join(dir, 'e.txt'),
    ]);
    expect(res.code).toBe(1);
    const lines = readFileSync(path.join(dir, 'e.txt'), 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(/^Line 2, request failed: fetch failed \(.*ECONNREFUSED.*\)$/);
  });
});

describe('request failures', () => {
  it('name the cause, or the error itself when there is none', () => {
    const refused = Object.assign(new Error(''), { code: 'ECONNREFUSED' });
    expect(requestFailed(new TypeError('fetch failed', { cause: refused }))).toBe(
      'request failed: fetch failed (ECONNREFUSED)',
    );
    expect(
      requestFailed(new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND x') })),
    ).toBe('request failed: fetch failed (getaddrinfo ENOTFOUND x)');
    expect(requestFailed(new Error('aborted'))).toBe('request failed: aborted');
    expect(requestFailed('odd')).toBe('request failed: odd');
  });
});
