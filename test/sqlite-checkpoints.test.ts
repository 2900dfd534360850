import { statSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { pino } from 'pino';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { startCheckpointer, type CheckpointResult } from '../src/core/db/checkpointer.js';
import { openDatabase, WAL_SIZE_LIMIT_BYTES } from '../src/core/db/index.js';
import { loadConfig } from '../src/config.js';
import { tempDir } from './helper.js';

const silent = pino({ level: 'silent' });

/** A logger that keeps what it is given at error level. */
function recordingLogger() {
  const errors: string[] = [];
  const logger = pino(
    { level: 'error' },
    {
      write(line: string) {
        errors.push((JSON.parse(line) as { msg: string }).msg);
      },
    },
  );
  return { logger, errors };
}

describe('SQLite WAL checkpoints', () => {
  it('are not run by the serving connection, but by the worker, and keep every commit', async () => {
    const dataDir = tempDir();
    const handle = openDatabase(
      loadConfig({ env: {}, overrides: { db: '', data_dir: dataDir } }),
      silent,
    );
    try {
      const { db } = handle;
      const auto = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(db);
      expect(auto.rows[0]?.wal_autocheckpoint).toBe(0);
      await sql`create table t (id integer primary key, v text)`.execute(db);
      // Past SQLite's own 1,000-page threshold: the serving connection would have checkpointed.
      for (let i = 0; i < 1500; i++) {
        await sql`insert into t (v) values (${'x'.repeat(3000)})`.execute(db);
      }
      const result = await handle.checkpoint();
      expect(result?.busy).toBe(0);
      expect(result?.log).toBeGreaterThan(0);
      expect(result?.checkpointed).toBe(result?.log);
    } finally {
      await handle.destroy();
    }
    // Everything committed is in the file, read by a connection of its own.
    const check = new SQLite(path.join(dataDir, 'agora.db'), { readonly: true });
    expect(check.prepare('select count(*) as n from t').get()).toEqual({ n: 1500 });
    check.close();
  });

  it('let the WAL file shrink back to its limit after a burst of writes', async () => {
    const dataDir = tempDir();
    const handle = openDatabase(
      loadConfig({ env: {}, overrides: { db: '', data_dir: dataDir } }),
      silent,
    );
    const wal = path.join(dataDir, 'agora.db-wal');
    try {
      const { db } = handle;
      await sql`create table t (id integer primary key, v blob)`.execute(db);
      // About 30 MB of WAL, in transactions of 3 MB.
      for (let batch = 0; batch < 10; batch++) {
        await db.transaction().execute(async (trx) => {
          for (let i = 0; i < 100; i++)
            await sql`insert into t (v) values (${Buffer.alloc(30_000, i)})`.execute(trx);
        });
      }
      await handle.checkpoint();
      expect(statSync(wal).size).toBeGreaterThan(WAL_SIZE_LIMIT_BYTES);
      // Everything checkpointed: the next write starts the WAL over, cut back to the limit.
      const result = await handle.checkpoint();
      expect(result?.checkpointed).toBe(result?.log);
      await sql`insert into t (v) values (${Buffer.alloc(10)})`.execute(db);
      expect(statSync(wal).size).toBeLessThanOrEqual(WAL_SIZE_LIMIT_BYTES);
    } finally {
      await handle.destroy();
    }
  });

  it('run periodically on the worker', async () => {
    const file = path.join(tempDir(), 'periodic.db');
    const database = new SQLite(file);
    database.pragma('journal_mode = WAL');
    database.exec('create table t (v text)');
    let seen!: (r: CheckpointResult) => void;
    const checkpointed = new Promise<CheckpointResult>((resolve) => (seen = resolve));
    const checkpointer = startCheckpointer({
      database,
      location: file,
      intervalMs: 5,
      busyTimeoutMs: 1000,
      logger: silent,
      onCheckpoint: (r) => {
        if (r.checkpointed === r.log) seen(r);
      },
    });
    try {
      for (let i = 0; i < 50; i++)
        database.prepare('insert into t values (?)').run('y'.repeat(5000));
      const result = await checkpointed;
      expect(result.log).toBeGreaterThan(0);
    } finally {
      await checkpointer.close();
      database.close();
    }
  });

  it('fall back to the serving connection when the worker fails', async () => {
    const dir = tempDir();
    const database = new SQLite(path.join(dir, 'fallback.db'));
    database.pragma('journal_mode = WAL');
    const { logger, errors } = recordingLogger();
    // The worker cannot open a directory as a database: it dies at start.
    const checkpointer = startCheckpointer({
      database,
      location: dir,
      intervalMs: 1000,
      busyTimeoutMs: 1000,
      logger,
    });
    await expect(checkpointer.now()).rejects.toThrow();
    expect(errors.some((m) => m.includes('checkpoint worker failed'))).toBe(true);
    expect(database.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    await checkpointer.close();
    database.close();
  });
});
