import type { Kysely } from 'kysely';
import { addIdColumn } from '../../../core/db/portable.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  // `id` is the line's order (a sequence, not a clock). `live_code` is the code while the token
  // is live and NULL after: its unique index makes a duplicate live code impossible.
  await addIdColumn(db, db.schema.createTable('queue_tokens'))
    .addColumn('code', 'char(3)', (c) => c.notNull())
    .addColumn('live_code', 'char(3)', (c) => c.unique())
    .addColumn('secret_hash', 'char(64)', (c) => c.notNull())
    .addColumn('state', 'varchar(8)', (c) => c.notNull())
    .addColumn('issued_at', 'bigint', (c) => c.notNull())
    .addColumn('became_head_at', 'bigint')
    .addColumn('claimed_at', 'bigint')
    .addColumn('view_until', 'bigint')
    .addColumn('ended_at', 'bigint')
    .addColumn('image_url', 'varchar(255)')
    .addColumn('client_ip', 'varchar(64)', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('queue_tokens_state')
    .on('queue_tokens')
    .columns(['state', 'id'])
    .execute();
  await db.schema
    .createIndex('queue_tokens_code')
    .on('queue_tokens')
    .columns(['code', 'id'])
    .execute();

  // One row summing up the line: the next code to try, when the latest viewing ends (the head's
  // clock freeze), the head and how many wait. Every change to the line locks this row first,
  // so changes apply one at a time, on any node.
  await db.schema
    .createTable('queue_state')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('next_index', 'integer', (c) => c.notNull())
    .addColumn('viewing_until', 'bigint', (c) => c.notNull())
    .addColumn('head_id', 'integer')
    .addColumn('head_code', 'char(3)')
    .addColumn('head_since', 'bigint')
    .addColumn('waiting', 'integer', (c) => c.notNull())
    .execute();
  await db
    .insertInto('queue_state' as never)
    .values({ id: 1, next_index: 0, viewing_until: 0, waiting: 0 })
    .execute();

  await db.schema
    .createTable('queue_bans')
    .addColumn('ip', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('reason', 'varchar(255)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('queue_bans').execute();
  await db.schema.dropTable('queue_state').execute();
  await db.schema.dropTable('queue_tokens').execute();
}
