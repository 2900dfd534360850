import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModules, migrationsOf } from '../src/app.js';
import { migrateToLatest } from '../src/core/db/index.js';
import { echoModule } from './fixtures/echo-module.js';
import { buildTestApp, dialects, type TestApp } from './helper.js';

describe.each(dialects())('database on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, build: { modules: [echoModule] } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('opens the right engine and applies the core and module migrations', async () => {
    expect(t.app.database.dialect).toBe(dialect);
    const names = (await t.app.db.introspection.getTables()).map((x) => x.name);
    expect(names).toEqual(
      expect.arrayContaining(['agora_meta', 'migrations_core', 'echo_notes', 'migrations_echo']),
    );
  });

  it('is ready, and migrating again is a no-op', async () => {
    expect((await t.app.inject({ url: '/readyz' })).statusCode).toBe(200);
    const reports = await migrateToLatest(t.app.db, migrationsOf(await loadModules([echoModule])));
    expect(reports).toEqual([
      { set: 'core', applied: [] },
      { set: 'echo', applied: [] },
    ]);
  });

  it('round-trips rows with parameterised values', async () => {
    const hostile = "it's; DROP TABLE echo_notes; --";
    await t.app.db
      .insertInto('agora_meta')
      .values({ key: 'k', value: hostile, updated_at: new Date().toISOString() })
      .execute();
    const row = await t.app.db
      .selectFrom('agora_meta')
      .selectAll()
      .where('key', '=', 'k')
      .executeTakeFirstOrThrow();
    expect(row.value).toBe(hostile);
  });

  it('runs a prepared read with new parameters, seeing committed writes only', async () => {
    const { db, database } = t.app;
    const read = database.prepareRead(
      db.selectFrom('agora_meta').select('value').where('key', '=', ''),
    );
    const at = new Date().toISOString();
    await db
      .insertInto('agora_meta')
      .values([
        { key: 'p1', value: 'one', updated_at: at },
        { key: 'p2', value: 'two', updated_at: at },
      ])
      .execute();
    expect(await read(['p1'])).toEqual([{ value: 'one' }]);
    expect(await read(['p2'])).toEqual([{ value: 'two' }]);
    expect(await read(['missing'])).toEqual([]);
    await db.transaction().execute(async (tx) => {
      await tx
        .updateTable('agora_meta')
        .set({ value: 'changed' })
        .where('key', '=', 'p1')
        .execute();
      // Another reader must not see a transaction in progress.
      expect(await read(['p1'])).toEqual([{ value: 'one' }]);
    });
    expect(await read(['p1'])).toEqual([{ value: 'changed' }]);
  });
});

describe.each(dialects())('readiness when the database goes away (%s)', (dialect) => {
  it('turns /readyz into 503 while /healthz stays 200', async () => {
    const t = await buildTestApp({ dialect });
    try {
      expect((await t.app.inject({ url: '/readyz' })).statusCode).toBe(200);
      if (dialect === 'sqlite') await t.app.database.destroy();
      else await t.database.drop(); // drops the database and cuts its connections
      const res = await t.app.inject({ url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({
        status: 'unavailable',
        checks: { database: 'unavailable', bus: 'ok' },
      });
      expect((await t.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });
});
