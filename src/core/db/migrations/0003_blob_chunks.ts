import type { Kysely } from 'kysely';
import { blobColumnType } from '../portable.js';

/**
 * Blob bytes in bounded chunks. One row per blob held a whole image in one statement: past
 * MariaDB's `max_allowed_packet` (mysql2 inlines a buffer as hex, twice its size) an 8 MiB image
 * could not be stored. `agora_blobs` stays the index (a blob exists once its row is committed);
 * rows written before this keep their bytes there.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('agora_blob_chunks')
    .addColumn('sha256', 'char(64)', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('data', blobColumnType(db), (c) => c.notNull())
    .addPrimaryKeyConstraint('agora_blob_chunks_pk', ['sha256', 'seq'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('agora_blob_chunks').execute();
}
