import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeTax, taxModule } from '../../src/modules/tax/index.js';
import { loadAdminData } from '../../src/modules/tax/tax.repository.js';
import { buildTestApp, dialects, type TestApp } from '../helper.js';

describe.each(dialects())('tax admin data read back from %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, build: { modules: [taxModule] } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('is refused without its unbounded top bracket, or with limits out of order', async () => {
    const admin = await loadAdminData(t.app.db);
    const single = { married: false, children: 0, salary: 200_000 };
    expect(computeTax(admin, single)).toMatchObject({ tax: 64210, rate: 0.45 });
    const top = await t.app.db
      .selectFrom('tbtranches')
      .selectAll()
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    await t.app.db.deleteFrom('tbtranches').where('id', '=', top.id).execute();
    try {
      await expect(loadAdminData(t.app.db)).rejects.toThrow(/top bracket is missing/);
    } finally {
      await t.app.db.insertInto('tbtranches').values(top).execute();
    }
    const first = await t.app.db
      .selectFrom('tbtranches')
      .selectAll()
      .orderBy('id')
      .executeTakeFirstOrThrow();
    await t.app.db
      .updateTable('tbtranches')
      .set({ limite: 1_000_000 })
      .where('id', '=', first.id)
      .execute();
    try {
      await expect(loadAdminData(t.app.db)).rejects.toThrow(/limits must increase/);
    } finally {
      await t.app.db
        .updateTable('tbtranches')
        .set({ limite: first.limite })
        .where('id', '=', first.id)
        .execute();
    }
    expect(computeTax(await loadAdminData(t.app.db), single)).toMatchObject({ tax: 64210 });
  });
});
