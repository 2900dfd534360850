import { mkdirSync, chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { createConnection } from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, dialects, tempDir } from './helper.js';
import { runCli } from './process.js';
import { coreMigrations } from '../src/core/db/migrations/index.js';

describe('agora CLI', () => {
  it('documents every command with --help', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/serve/);
    expect(top.stdout).toMatch(/migrate/);
    const serve = await runCli(['serve', '--help']);
    expect(serve.stdout).toMatch(/--data-dir/);
    expect(serve.stdout).toMatch(/--modules/);
    expect(serve.stdout).toMatch(/--log-file/);
  });

  it('migrates the embedded database and says what it applied, then that it is up to date', async () => {
    const dir = tempDir();
    const first = await runCli(['migrate', '--data-dir', dir]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('core: applied 0001_meta');
    const second = await runCli(['migrate', '--data-dir', dir]);
    expect(second.stdout).toContain('core: up to date');
  });

  it('exits 64 naming the bad setting', async () => {
    const res = await runCli(['serve', '--port', 'http']);
    expect(res.code).toBe(64);
    expect(res.stderr).toMatch(/Invalid setting "port" \(from --port\)/);
    const env = await runCli(['migrate'], { AGORA_REALTIME_HISTORY: '-4' });
    expect(env.code).toBe(64);
    expect(env.stderr).toMatch(/"realtime.history" \(from AGORA_REALTIME_HISTORY\)/);
  });

  it('exits 2 when the database is unreachable', async () => {
    const res = await runCli([
      'serve',
      '--port',
      '0',
      '--db',
      'postgres://nobody@127.0.0.1:1/none',
    ]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/cannot start: Migration core failed/);
  });

  it('exits 1 when the log file cannot be written', async () => {
    const dir = tempDir();
    const locked = path.join(dir, 'locked');
    mkdirSync(locked);
    writeFileSync(path.join(locked, 'agora.log'), '');
    chmodSync(path.join(locked, 'agora.log'), 0o400);
    // root ignores file modes, so also try a path below a regular file, which nobody can create.
    const res = await runCli([
      'serve',
      '--port',
      '0',
      '--data-dir',
      dir,
      '--log-file',
      path.join(locked, 'agora.log', 'x.log'),
    ]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/Cannot open log file/);
  });
});

describe.each(dialects())('two processes starting together on %s', (dialect) => {
  it('both migrate successfully and each migration is recorded once', async () => {
    const database = await createTestDatabase(dialect);
    try {
      const dir = tempDir();
      const [a, b] = await Promise.all([
        runCli(['migrate', '--db', database.url, '--data-dir', dir]),
        runCli(['migrate', '--db', database.url, '--data-dir', dir]),
      ]);
      expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
      expect(`${a.stdout}${b.stdout}`.match(/applied 0001_meta/g)).toHaveLength(1);
      const count = await countMigrations(dialect, database.url);
      expect(count).toBe(Object.keys(coreMigrations).length);
    } finally {
      await database.drop();
    }
  });
});

async function countMigrations(dialect: string, url: string): Promise<number> {
  if (dialect === 'postgres') {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const r = await c.query<{ n: string }>('select count(*) as n from migrations_core');
    await c.end();
    return Number(r.rows[0]?.n);
  }
  if (dialect === 'mysql') {
    const c = await createConnection({ uri: url });
    const [rows] = await c.query('select count(*) as n from migrations_core');
    await c.end();
    return Number((rows as { n: number }[])[0]?.n);
  }
  const { default: SQLite } = await import('better-sqlite3');
  const db = new SQLite(url.slice('sqlite:'.length), { readonly: true });
  const row = db.prepare('select count(*) as n from migrations_core').get() as { n: number };
  db.close();
  return row.n;
}
