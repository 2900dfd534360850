/**
 * The external services test suites need, how to reach them, and whether they answer.
 * `DIALECTS` (default `sqlite,postgres,mysql`) picks the SQL engines the database suites run on.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'mysql2/promise';
import pg from 'pg';

export type Dialect = 'sqlite' | 'postgres' | 'mysql';

export const POSTGRES_ADMIN_URL =
  process.env.AGORA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const MYSQL_ADMIN_URL = process.env.AGORA_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/';
export const REDIS_URL = process.env.AGORA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const CHROMIUM_PATH = process.env.AGORA_TEST_CHROMIUM ?? '/usr/bin/chromium';

export function requestedDialects(): Dialect[] {
  const list = (process.env.DIALECTS ?? 'sqlite,postgres,mysql')
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);
  const known: Dialect[] = ['sqlite', 'postgres', 'mysql'];
  for (const d of list) {
    if (!known.includes(d as Dialect))
      throw new Error(`DIALECTS: unknown dialect "${d}" (known: ${known.join(', ')})`);
  }
  return known.filter((d) => list.includes(d));
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves to null when the service answers, else to the reason it does not. */
export async function probe(dialect: Dialect): Promise<string | null> {
  try {
    if (dialect === 'postgres') {
      const client = new pg.Client({
        connectionString: POSTGRES_ADMIN_URL,
        connectionTimeoutMillis: 3000,
      });
      await withTimeout(client.connect(), 4000);
      await client.query('select 1');
      await client.end();
    } else if (dialect === 'mysql') {
      const conn = await withTimeout(
        createConnection({ uri: MYSQL_ADMIN_URL, connectTimeout: 3000 }),
        4000,
      );
      await conn.query('select 1');
      await conn.end();
    }
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Resolves to null when Redis answers PING, else to the reason. */
export async function probeRedis(): Promise<string | null> {
  const { Redis } = await import('ioredis');
  const client = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 3000,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    client.disconnect();
  }
}

/** What the cluster suite needs besides the databases: nginx and systemd-analyze, on the PATH. */
export function clusterToolsMissing(): string | null {
  const missing = ['nginx', 'systemd-analyze'].filter(
    (tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).error !== undefined,
  );
  return missing.length === 0
    ? null
    : `${missing.join(', ')} not found (apt-get install -y nginx systemd; /usr/sbin on the PATH)`;
}

export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM_PATH)
    ? null
    : `${CHROMIUM_PATH} not found (apt-get install -y chromium)`;
}
