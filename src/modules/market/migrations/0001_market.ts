import type { Kysely } from 'kysely';
import { addIdColumn } from '../../../core/db/portable.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await addIdColumn(db, db.schema.createTable('market_products'))
    .addColumn('description', 'varchar(200)', (c) => c.notNull())
    .addColumn('price', 'integer', (c) => c.notNull())
    .addColumn('quantity', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();

  await addIdColumn(db, db.schema.createTable('market_orders'))
    // No foreign key: the ledger outlives a deleted product.
    .addColumn('product_id', 'integer', (c) => c.notNull())
    .addColumn('amount', 'integer', (c) => c.notNull())
    .addColumn('unit_price', 'integer', (c) => c.notNull())
    .addColumn('cost', 'bigint', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('card_last4', 'char(4)', (c) => c.notNull())
    .addColumn('request_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('market_orders_product')
    .on('market_orders')
    .columns(['product_id', 'status'])
    .execute();

  await db.schema
    .createTable('market_idempotency')
    .addColumn('key', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('request_hash', 'char(64)', (c) => c.notNull())
    .addColumn('state', 'varchar(8)', (c) => c.notNull())
    .addColumn('response', 'text')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('locked_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('market_idempotency_created')
    .on('market_idempotency')
    .column('created_at')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('market_idempotency').execute();
  await db.schema.dropTable('market_orders').execute();
  await db.schema.dropTable('market_products').execute();
}
