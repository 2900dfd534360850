import type { Kysely } from 'kysely';

/** Instance-wide facts (schema creation time, instance id) as key/value rows. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('agora_meta')
    .addColumn('key', 'varchar(100)', (c) => c.primaryKey())
    .addColumn('value', 'varchar(1000)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('agora_meta').execute();
}
