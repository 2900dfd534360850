import type { Kysely } from 'kysely';
import type { TaxDatabase } from '../tax.tables.js';
import { ADMIN_DATA_2019 } from '../tax.admin-data.js';

const CONSTANTS = [
  'plafond_qf_demi_part',
  'plafond_revenus_celibataire_pour_reduction',
  'plafond_revenus_couple_pour_reduction',
  'valeur_reduc_demi_part',
  'plafond_decote_celibataire',
  'plafond_decote_couple',
  'plafond_impot_celibataire_pour_decote',
  'plafond_impot_couple_pour_decote',
  'abattement_dixpourcent_max',
  'abattement_dixpourcent_min',
] as const;

/** The admin data tables, with exact decimal columns (the original's MySQL used single floats). */
export async function up(db: Kysely<TaxDatabase>): Promise<void> {
  await db.schema
    .createTable('tbtranches')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('limite', 'numeric(14, 2)')
    .addColumn('coeffr', 'numeric(6, 4)', (c) => c.notNull())
    .addColumn('coeffn', 'numeric(14, 2)', (c) => c.notNull())
    .execute();
  let table = db.schema
    .createTable('tbconstantes')
    .addColumn('id', 'integer', (c) => c.primaryKey());
  for (const name of CONSTANTS) table = table.addColumn(name, 'numeric(14, 2)', (c) => c.notNull());
  await table.execute();

  const a = ADMIN_DATA_2019;
  await db
    .insertInto('tbtranches')
    .values(
      a.limites.map((limite, i) => ({
        id: i + 1,
        limite: Number.isFinite(limite) ? limite : null,
        coeffr: a.coeffr[i] ?? 0,
        coeffn: a.coeffn[i] ?? 0,
      })),
    )
    .execute();
  const { limites, coeffr, coeffn, ...constants } = a;
  await db
    .insertInto('tbconstantes')
    .values({ id: 1, ...constants })
    .execute();
}

export async function down(db: Kysely<TaxDatabase>): Promise<void> {
  await db.schema.dropTable('tbconstantes').execute();
  await db.schema.dropTable('tbtranches').execute();
}
