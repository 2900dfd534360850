import type { Kysely } from 'kysely';
import { addIdColumn } from '../../../core/db/portable.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  // `id` orders the listing (the cursor); `public_id` is what URLs show.
  await addIdColumn(db, db.schema.createTable('images_images'))
    .addColumn('public_id', 'varchar(32)', (c) => c.notNull().unique())
    .addColumn('sha256', 'char(64)', (c) => c.notNull())
    .addColumn('format', 'varchar(8)', (c) => c.notNull())
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('bytes', 'integer', (c) => c.notNull())
    .addColumn('filename', 'varchar(255)')
    .addColumn('album', 'varchar(64)')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('images_images_sha256')
    .on('images_images')
    .column('sha256')
    .execute();
  await db.schema
    .createIndex('images_images_album')
    .on('images_images')
    .columns(['album', 'id'])
    .execute();

  // Derived images (a conversion or transformation of a stored image), by (source, operations).
  await db.schema
    .createTable('images_derived')
    .addColumn('key', 'char(64)', (c) => c.primaryKey())
    .addColumn('source_sha256', 'char(64)', (c) => c.notNull())
    .addColumn('blob_sha256', 'char(64)', (c) => c.notNull())
    .addColumn('format', 'varchar(8)', (c) => c.notNull())
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('bytes', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('images_derived_source')
    .on('images_derived')
    .column('source_sha256')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('images_derived').execute();
  await db.schema.dropTable('images_images').execute();
}
