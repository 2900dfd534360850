/**
 * The batch client behind `agora tax-client FILE`: reads `id,married,children,salary` lines,
 * asks the server concurrently (bounded) or through the batch endpoint, and keeps input order in
 * the results. Every bad line or failed request becomes `Line N, reason`.
 */
import { Compile } from 'typebox/compile';
import { BatchAnswer, TaxAnswer, TaxErrors, type ResultEn, type ResultFr } from './tax.schemas.js';
import { checkTaxpayer } from './tax.validation.js';
import type { Taxpayer } from './tax.engine.js';

export interface InputLine {
  line: number;
  id: number;
  taxpayer: Taxpayer;
}

export interface ClientResult {
  id: number;
  married: 'yes' | 'no';
  children: number;
  salary: number;
  tax: number;
  surcharge: number;
  rate: number;
  discount: number;
  reduction: number;
}

export interface ClientError {
  line: number;
  reason: string;
}

/** Parses the input file; line numbers count every line from 1 (blank and `#` lines are skipped). */
export function parseTaxpayers(text: string): { lines: InputLine[]; errors: ClientError[] } {
  const lines: InputLine[] = [];
  const errors: ClientError[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const fields = trimmed.split(',').map((f) => f.trim());
    if (fields.length !== 4) {
      errors.push({
        line,
        reason: `expected 4 fields (id,married,children,salary), got ${fields.length}`,
      });
      return;
    }
    const [id, married, children, salary] = fields as [string, string, string, string];
    if (!/^\d{1,12}$/.test(id)) {
      errors.push({ line, reason: `invalid id ${JSON.stringify(id.slice(0, 40))}` });
      return;
    }
    const checked = checkTaxpayer({ married, children, salary }, 'en');
    if (!checked.ok) {
      errors.push({ line, reason: checked.errors.join('; ') });
      return;
    }
    lines.push({ line, id: Number(id), taxpayer: checked.taxpayer });
  });
  return { lines, errors };
}

/** Reads a result in either key set (the server may answer in French). */
function toClientResult(id: number, r: ResultEn | ResultFr): ClientResult {
  if ('tax' in r) return { id, ...r };
  return {
    id,
    married: r.marié === 'oui' ? 'yes' : 'no',
    children: r.enfants,
    salary: r.salaire,
    tax: r.impôt,
    surcharge: r.surcôte,
    rate: r.taux,
    discount: r.décôte,
    reduction: r.réduction,
  };
}

// The client checks answers against the server's own schemas rather than trusting their shape.
const isAnswer = Compile(TaxAnswer);
const isBatchAnswer = Compile(BatchAnswer);
const isErrors = Compile(TaxErrors);

function errorsOf(body: unknown): string {
  if (!isErrors.Check(body)) return 'unexpected answer';
  return ('response' in body ? body.response.errors : body.réponse.erreurs).join('; ');
}

export interface RunOptions {
  /** Base URL of the tax API, e.g. http://127.0.0.1:8080/tax */
  url: string;
  user: string;
  password: string;
  concurrency: number;
  batch: boolean;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  fetch?: typeof fetch;
}

/**
 * Why a request got no answer. fetch says only "fetch failed"; the reason (a refused connection,
 * an unknown host) is its cause, whose message may be empty (several addresses tried at once).
 */
export function requestFailed(err: unknown): string {
  if (!(err instanceof Error)) return `request failed: ${String(err)}`;
  const { cause } = err;
  if (!(cause instanceof Error)) return `request failed: ${err.message}`;
  const detail =
    cause.message !== '' ? cause.message : ((cause as NodeJS.ErrnoException).code ?? cause.name);
  return `request failed: ${err.message} (${detail})`;
}

/** Sends every line; resolves with the results in input order and the failures. */
export async function runClient(
  lines: readonly InputLine[],
  options: RunOptions,
): Promise<{ results: ClientResult[]; errors: ClientError[] }> {
  const doFetch = options.fetch ?? fetch;
  const base = options.url.replace(/\/+$/, '');
  const authorization = `Basic ${Buffer.from(`${options.user}:${options.password}`).toString('base64')}`;
  const outcomes: (ClientResult | ClientError)[] = new Array<ClientResult | ClientError>(
    lines.length,
  );
  let done = 0;
  const progress = (n: number): void => {
    done += n;
    options.onProgress?.(done, lines.length);
  };

  const query = (t: Taxpayer): string =>
    new URLSearchParams({
      married: t.married ? 'yes' : 'no',
      children: String(t.children),
      salary: String(t.salary),
    }).toString();

  async function one(index: number, item: InputLine): Promise<void> {
    try {
      const res = await doFetch(`${base}/?${query(item.taxpayer)}`, { headers: { authorization } });
      const body: unknown = await res.json().catch(() => null);
      if (res.ok && isAnswer.Check(body)) {
        outcomes[index] = toClientResult(
          item.id,
          'response' in body ? body.response.result : body.réponse.result,
        );
      } else {
        outcomes[index] = { line: item.line, reason: `HTTP ${res.status}: ${errorsOf(body)}` };
      }
    } catch (err) {
      outcomes[index] = { line: item.line, reason: requestFailed(err) };
    }
    progress(1);
  }

  async function batch(start: number, end: number): Promise<void> {
    const chunk = lines.slice(start, end);
    try {
      const res = await doFetch(`${base}/batch`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify(
          chunk.map((l) => ({
            married: l.taxpayer.married ? 'yes' : 'no',
            children: l.taxpayer.children,
            salary: l.taxpayer.salary,
          })),
        ),
      });
      const body: unknown = await res.json().catch(() => null);
      const answers =
        res.ok && isBatchAnswer.Check(body)
          ? 'response' in body
            ? body.response.results
            : body.réponse.résultats
          : null;
      chunk.forEach((item, k) => {
        const a = answers?.[k];
        if (!a)
          outcomes[start + k] = {
            line: item.line,
            reason: `HTTP ${res.status}: ${errorsOf(body)}`,
          };
        else if ('result' in a) outcomes[start + k] = toClientResult(item.id, a.result);
        else
          outcomes[start + k] = {
            line: item.line,
            reason: ('errors' in a ? a.errors : a.erreurs).join('; '),
          };
      });
    } catch (err) {
      chunk.forEach((item, k) => {
        outcomes[start + k] = { line: item.line, reason: requestFailed(err) };
      });
    }
    progress(chunk.length);
  }

  // A bounded pool: `concurrency` workers take the next job until none is left.
  const size = options.batchSize ?? 100;
  const jobs: (() => Promise<void>)[] = options.batch
    ? Array.from(
        { length: Math.ceil(lines.length / size) },
        (_, j) => () => batch(j * size, Math.min(lines.length, (j + 1) * size)),
      )
    : lines.map((item, i) => () => one(i, item));
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(options.concurrency, jobs.length)) }, async () => {
      for (let job = jobs[next++]; job !== undefined; job = jobs[next++]) await job();
    }),
  );

  const results: ClientResult[] = [];
  const errors: ClientError[] = [];
  for (const o of outcomes) {
    if ('reason' in o) errors.push(o);
    else results.push(o);
  }
  return { results, errors };
}
