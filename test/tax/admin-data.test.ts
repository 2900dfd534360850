import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taxModule } from '../../src/modules/tax/index.js';
import { computeTax } from '../../src/modules/tax/tax.engine.js';
import { loadAdminData } from '../../src/modules/tax/tax.repository.js';
import { buildTestApp, dialects, type TestApp } from '../helper.js';
import type { TablesOf } from '../../src/core/db/tables.js';
import type { TaxTables } from '../../src/modules/tax/tax.tables.js';

/** The app's database with the tax module's tables. */
const taxDb = (t: TestApp) => t.app.db.withTables<TablesOf<TaxTables>>();

describe.each(dialects())('tax admin data read back from %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, build: { modules: [taxModule] } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('is refused without its unbounded top bracket, or with limits out of order', async () => {
    const admin = await loadAdminData(taxDb(t));
    const single = { married: false, children: 0, salary: 200_000 };
    expect(computeTax(admin, single)).toMatchObject({ tax: 64210, rate: 0.45 });
    const top = await taxDb(t)
      .selectFrom('tbtranches')
      .selectAll()
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    await taxDb(t).deleteFrom('tbtranches').where('id', '=', top.id).execute();
    try {
      await expect(loadAdminData(taxDb(t))).rejects.toThrow(/top bracket is missing/);
    } finally {
      await taxDb(t).insertInto('tbtranches').values(top).execute();
    }
    const first = await taxDb(t)
      .selectFrom('tbtranches')
      .selectAll()
      .orderBy('id')
      .executeTakeFirstOrThrow();
    await taxDb(t)
      .updateTable('tbtranches')
      .set({ limite: 1_000_000 })
      .where('id', '=', first.id)
      .execute();
    try {
      await expect(loadAdminData(taxDb(t))).rejects.toThrow(/limits must increase/);
    } finally {
      await taxDb(t)
        .updateTable('tbtranches')
        .set({ limite: first.limite })
        .where('id', '=', first.id)
        .execute();
    }
    expect(computeTax(await loadAdminData(taxDb(t)), single)).toMatchObject({ tax: 64210 });
  });
});
