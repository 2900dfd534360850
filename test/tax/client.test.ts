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

/** `agora tax-client` on the reference file against `url`, writing into a fresh directory. */
async function runTaxClient(url: string, extra: string[] = [], env: Record<string, string> = {}) {
  const dir = tempDir();
  const out = path.join(dir, 'results.json');
  const errs = path.join(dir, 'errors.txt');
  const res = await runCli(
    ['tax-client', TAXPAYERS, '--url', url, '--out', out, '--errors', errs, ...extra],
    env,
  );
  return {
    ...res,
    results: (): unknown => JSON.parse(readFileSync(out, 'utf8')),
    errorLines: (): string[] => readFileSync(errs, 'utf8').trim().split('\n'),
  };
}

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
      const run = await runTaxClient(url, ['--concurrency', '4', ...extra]);
      expect(run.code, run.stderr).toBe(1); // some lines failed
      expect(run.results()).toEqual(expected);
      const errorLines = run.errorLines();
      expect(errorLines.map((l) => /^Line (\d+), /.exec(l)?.[1])).toEqual(['14', '15', '16']);
      expect(run.stdout).toMatch(/11 computed, 3 failed/);
    },
  );

  it('reports failed requests line by line (wrong password)', async () => {
    const run = await runTaxClient(url, [], { AGORA_TAX_PASSWORD: 'wrong' });
    expect(run.code).toBe(1);
    const lines = run.errorLines();
    expect(lines).toHaveLength(14);
    expect(lines[0]).toBe('Line 2, HTTP 401: wrong user name or password');
    expect(run.results()).toEqual([]);
  });

  it('says why a request got no answer (nothing listening)', async () => {
    const closed = await buildTestApp();
    const gone = await listen(closed.app);
    await closed.close();
    const run = await runTaxClient(gone);
    expect(run.code).toBe(1);
    const lines = run.errorLines();
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
