import type { Kysely } from 'kysely';
import { blobColumnType } from '../portable.js';

/** Content-addressed blobs, for the `db` blob store (several nodes sharing one database). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('agora_blobs')
    .addColumn('sha256', 'char(64)', (c) => c.primaryKey())
    .addColumn('data', blobColumnType(db), (c) => c.notNull())
    .addColumn('bytes', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('agora_blobs').execute();
}
