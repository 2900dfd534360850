/**
 * Load for the fault suite: concurrent buyers against a running server, recording every answer,
 * so that a test can check what a fault did to them — only 200 or 503 answers, every 503 in the
 * module's JSON envelope with its request id, no request left hanging, and every acknowledged
 * purchase in the ledger afterwards.
 */
import { randomBytes } from 'node:crypto';
import type { RowDataPacket } from 'mysql2';
import { createConnection } from 'mysql2/promise';
import pg from 'pg';
import type { TestDatabase } from '../helper.js';
import { CARD } from '../market/helpers.js';

export interface Answer {
  status: number;
  /** The request id the answer carries (`exe_id` in the market's envelope). */
  exeId: string | null;
  /** `Success` for an acknowledged purchase. */
  outcome: string | null;
  retryAfter: string | null;
}

export interface LoadReport {
  answers: Answer[];
  /** Requests the server never answered within the client's patience (see `patienceMs`). */
  hung: number;
  /** Requests that failed without an HTTP answer (connection refused or reset). */
  dropped: number;
  byStatus: Record<number, number>;
  /** Request ids of acknowledged purchases. */
  acknowledged: string[];
}

export interface Load {
  /** Resolves once at least `n` more answers have arrived (with a status in `statuses`). */
  answered(n: number, statuses?: readonly number[]): Promise<void>;
  stop(): Promise<LoadReport>;
}

/**
 * `buyers` clients buying `amount` of product `id` in a loop until `stop()`. A request still
 * unanswered after `patienceMs` is counted as hung: the bound a fault must never exceed.
 */
export function startBuyers(
  baseUrl: string,
  id: number,
  options: { buyers: number; patienceMs: number; amount?: number },
): Load {
  const answers: Answer[] = [];
  let hung = 0;
  let dropped = 0;
  let running = true;
  let waiters: { target: number; statuses: readonly number[] | undefined; resolve: () => void }[] =
    [];
  const counted = (statuses: readonly number[] | undefined): number =>
    statuses === undefined
      ? answers.length
      : answers.filter((a) => statuses.includes(a.status)).length;
  const wake = (): void => {
    waiters = waiters.filter((w) => {
      if (counted(w.statuses) < w.target) return true;
      w.resolve();
      return false;
    });
  };

  const buyer = async (): Promise<void> => {
    while (running) {
      let res: Response;
      try {
        res = await fetch(`${baseUrl}/market/buy/${id}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ amount: options.amount ?? 1, credit_card: CARD }),
          signal: AbortSignal.timeout(options.patienceMs),
        });
      } catch (err) {
        if (err instanceof DOMException && err.name === 'TimeoutError') hung += 1;
        else dropped += 1;
        continue;
      }
      const text = await res.text();
      let body: { data?: { status?: string }; exe_id?: string } = {};
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        // Recorded with no request id: the envelope check fails on it.
      }
      answers.push({
        status: res.status,
        exeId: typeof body.exe_id === 'string' ? body.exe_id : null,
        outcome: body.data?.status ?? null,
        retryAfter: res.headers.get('retry-after'),
      });
      wake();
    }
  };
  const all = Promise.all(Array.from({ length: options.buyers }, buyer));

  return {
    answered(n, statuses) {
      const target = counted(statuses) + n;
      return new Promise((resolve) => {
        waiters.push({ target, statuses, resolve });
        wake();
      });
    },
    async stop() {
      running = false;
      await all;
      const byStatus: Record<number, number> = {};
      for (const a of answers) byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
      return {
        answers,
        hung,
        dropped,
        byStatus,
        acknowledged: answers
          .filter((a) => a.status === 200 && a.outcome === 'Success' && a.exeId !== null)
          .map((a) => a.exeId ?? ''),
      };
    },
  };
}

/** How many of `requestIds` are successful purchases in the ledger (read directly). */
export async function inLedger(db: TestDatabase, requestIds: string[]): Promise<number> {
  if (requestIds.length === 0) return 0;
  if (db.dialect === 'postgres') {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const res = await c.query<{ n: string }>(
        "select count(*) as n from market_orders where status = 'Success' and request_id = any($1)",
        [requestIds],
      );
      return Number(res.rows[0]?.n ?? 0);
    } finally {
      await c.end();
    }
  }
  const c = await createConnection({ uri: db.url });
  try {
    let found = 0;
    // In slices: one statement with thousands of placeholders is needlessly large.
    for (let i = 0; i < requestIds.length; i += 500) {
      const slice = requestIds.slice(i, i + 500);
      const [rows] = await c.query<({ n: number } & RowDataPacket)[]>(
        `select count(*) as n from market_orders where status = 'Success' and request_id in (${slice.map(() => '?').join(',')})`,
        slice,
      );
      found += rows[0]?.n ?? 0;
    }
    return found;
  } finally {
    await c.end();
  }
}

/** Adds `amount` to the stock of product `id` through a running server (an admin route). */
export async function replenish(baseUrl: string, id: number, amount: number): Promise<void> {
  const res = await fetch(`${baseUrl}/market/replenish/${id}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ amount }),
  });
  await res.text();
  if (res.status !== 200) throw new Error(`replenish ${id}: HTTP ${res.status}`);
}

/** Creates a product through a running server with `stock` in stock (new products have none). */
export async function createProduct(
  baseUrl: string,
  price: number,
  stock: number,
): Promise<number> {
  const res = await fetch(`${baseUrl}/product/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ description: `p-${randomBytes(3).toString('hex')}`, price }),
  });
  const id = ((await res.json()) as { data: { id: number } }).data.id;
  if (stock > 0) await replenish(baseUrl, id, stock);
  return id;
}
