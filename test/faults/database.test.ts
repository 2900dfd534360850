/**
 * The fault suite, database side: a real `agora serve` on PostgreSQL or MariaDB reached through a
 * TCP proxy the test controls, under 24 concurrent buyers, while the database's connections are
 * terminated by the server, reset by the network, blackholed, or refused. Each time the process
 * must stay up, answer only 200 or a 503 in the market's envelope (request id, `Retry-After`)
 * within the configured bound, report the database in `/readyz`, recover by itself once the
 * fault ends, and have every acknowledged purchase in the ledger.
 */
import type { RowDataPacket } from 'mysql2';
import { createConnection } from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, dialects, type TestDatabase } from '../helper.js';
import { startServerProcess, type ServerProcess } from '../process.js';
import { MYSQL_ADMIN_URL, POSTGRES_ADMIN_URL } from '../services.js';
import { startTcpProxy, type TcpProxy } from '../tcp-proxy.js';
import { inLedger, replenish, startBuyers, type LoadReport } from './load.js';

const CONNECT_TIMEOUT_MS = 1000;
const QUERY_TIMEOUT_MS = 2000;
/**
 * No request may wait longer than this: a wait for a connection, one statement that hangs until
 * the client gives up on it (the server's timeout plus the client's one-second grace), and a
 * margin for a busy machine. Past it, a request counts as hung.
 */
const BOUND_MS = CONNECT_TIMEOUT_MS + QUERY_TIMEOUT_MS + 1000 + 3000;
const BUYERS = 24;
const PRODUCT = 1;

type ServerDialect = 'postgres' | 'mysql';

/** Every server-side connection of `database` is killed by the server itself. */
async function terminateConnections(dialect: ServerDialect, database: string): Promise<number> {
  if (dialect === 'postgres') {
    const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    try {
      const res = await admin.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
        [database],
      );
      return res.rowCount ?? 0;
    } finally {
      await admin.end();
    }
  }
  const admin = await createConnection({ uri: MYSQL_ADMIN_URL });
  try {
    const [rows] = await admin.query<({ id: number } & RowDataPacket)[]>(
      'select id from information_schema.processlist where db = ? and id <> connection_id()',
      [database],
    );
    for (const row of rows) await admin.query(`kill connection ${row.id}`);
    return rows.length;
  } finally {
    await admin.end();
  }
}

async function readiness(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1500) });
  return { status: res.status, body: await res.json() };
}

const serverDialects = dialects().filter((d): d is ServerDialect => d !== 'sqlite');

describe.each(serverDialects)('a %s that fails under load', (dialect) => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let server: ServerProcess;
  let databaseName: string;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    databaseName = new URL(db.url).pathname.slice(1);
    const target = new URL(db.url);
    proxy = await startTcpProxy(target.hostname, Number(target.port));
    server = await startServerProcess(['--db', proxy.url(db.url), '--modules', 'market'], {
      AGORA_DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
      AGORA_DB_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
    });
    await replenish(server.url, PRODUCT, 1_000_000);
  });

  afterAll(async () => {
    server.child.kill('SIGTERM');
    await server.exited;
    await proxy.close();
    await db.drop();
  });

  /** What every fault must leave: a live process, bounded answers, nothing acknowledged lost. */
  async function expectSurvived(report: LoadReport): Promise<void> {
    expect(server.child.exitCode).toBeNull();
    expect(report.hung).toBe(0);
    expect(report.dropped).toBe(0);
    const others = report.answers.filter((a) => a.status !== 200 && a.status !== 503);
    expect(others).toEqual([]);
    for (const a of report.answers) expect(a.exeId).toEqual(expect.any(String));
    for (const a of report.answers.filter((x) => x.status === 503))
      expect(a.retryAfter).toMatch(/^\d+$/);
    expect(await inLedger(db, report.acknowledged)).toBe(report.acknowledged.length);
    // Failures are logged by code and message: never a driver's client object (pg's holds the
    // server's cancel key), never SQL parameters.
    const logged = JSON.stringify(server.lines);
    expect(logged).not.toMatch(/secretKey|processID|"parameters"/);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
  }

  it('stays up when the server terminates every connection, and carries on', async () => {
    const load = startBuyers(server.url, PRODUCT, { buyers: BUYERS, patienceMs: BOUND_MS });
    await load.answered(50, [200]);
    expect(await terminateConnections(dialect, databaseName)).toBeGreaterThan(0);
    await load.answered(100, [200]);
    const report = await load.stop();
    await expectSurvived(report);
  });

  it('stays up when the network resets every connection, and carries on', async () => {
    const load = startBuyers(server.url, PRODUCT, { buyers: BUYERS, patienceMs: BOUND_MS });
    await load.answered(50, [200]);
    proxy.reset();
    await load.answered(100, [200]);
    const report = await load.stop();
    await expectSurvived(report);
  });

  it('answers 503 within the bound while the network is a blackhole, and recovers by itself', async () => {
    const load = startBuyers(server.url, PRODUCT, { buyers: BUYERS, patienceMs: BOUND_MS });
    await load.answered(50, [200]);
    proxy.blackhole();
    await load.answered(2 * BUYERS, [503]);
    const ready = await readiness(server.url);
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({
      status: 'unavailable',
      checks: { database: expect.stringMatching(/^(no answer|unavailable)$/), bus: 'ok' },
    });
    proxy.restore();
    await load.answered(100, [200]);
    const report = await load.stop();
    expect(report.byStatus[503]).toBeGreaterThanOrEqual(2 * BUYERS);
    await expectSurvived(report);
    expect((await readiness(server.url)).status).toBe(200);
  });

  it('answers 503 while the database refuses connections, and recovers by itself', async () => {
    const load = startBuyers(server.url, PRODUCT, { buyers: BUYERS, patienceMs: BOUND_MS });
    await load.answered(50, [200]);
    proxy.refuse();
    proxy.reset();
    await load.answered(2 * BUYERS, [503]);
    const ready = await readiness(server.url);
    expect(ready).toEqual({
      status: 503,
      body: { status: 'unavailable', checks: { database: 'unavailable', bus: 'ok' } },
    });
    proxy.restore();
    await load.answered(100, [200]);
    const report = await load.stop();
    await expectSurvived(report);
  });
});
