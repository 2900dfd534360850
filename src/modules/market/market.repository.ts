/**
 * All of the market's SQL. Every function takes the executor (the database or a transaction)
 * first; the service decides what runs in one transaction.
 */
import { sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { DatabaseHandle } from '../../core/db/index.js';
import { dialectOf, isUniqueViolation } from '../../core/db/portable.js';
import type {
  MarketDatabase,
  MarketIdempotencyTable,
  MarketOrderTable,
  MarketProductTable,
} from './market.tables.js';

export type Executor = Kysely<MarketDatabase> | Transaction<MarketDatabase>;
export type ProductRow = Selectable<MarketProductTable>;

export function findProduct(db: Executor, id: number): Promise<ProductRow | undefined> {
  return db.selectFrom('market_products').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Reads a product and locks its row until the transaction ends. SQLite has no row locks: its
 * transactions begin immediate (one writer at a time), which is stronger.
 */
export function findProductForUpdate(
  db: Transaction<MarketDatabase>,
  id: number,
): Promise<ProductRow | undefined> {
  const query = db.selectFrom('market_products').selectAll().where('id', '=', id);
  return (dialectOf(db) === 'sqlite' ? query : query.forUpdate()).executeTakeFirst();
}

export function listProducts(db: Executor): Promise<ProductRow[]> {
  return db.selectFrom('market_products').selectAll().orderBy('id').execute();
}

/** The reads behind `GET /market/query/:id`, `/product/`…, outside any transaction. */
export interface ProductReads {
  find(id: number): Promise<ProductRow | undefined>;
  list(): Promise<ProductRow[]>;
}

/** `findProduct` and `listProducts`, compiled once (see `DatabaseHandle.prepareRead`). */
export function productReads(
  db: Kysely<MarketDatabase>,
  prepareRead: DatabaseHandle['prepareRead'],
): ProductReads {
  // The 0 only holds the id's place in the compiled SQL.
  const find = prepareRead(db.selectFrom('market_products').selectAll().where('id', '=', 0));
  const list = prepareRead(db.selectFrom('market_products').selectAll().orderBy('id'));
  return {
    async find(id) {
      return (await find([id]))[0];
    },
    async list() {
      return list([]);
    },
  };
}

export async function insertProduct(
  db: Executor,
  values: { id?: number; description: string; price: number; quantity: number; now: string },
): Promise<number> {
  const row = {
    ...(values.id === undefined ? {} : { id: values.id }),
    description: values.description,
    price: values.price,
    quantity: values.quantity,
    created_at: values.now,
    updated_at: values.now,
  };
  // PostgreSQL reports the new id only through RETURNING; SQLite and MySQL through insertId.
  if (dialectOf(db) === 'postgres') {
    const inserted = await db
      .insertInto('market_products')
      .values(row)
      .returning('id')
      .executeTakeFirstOrThrow();
    return inserted.id;
  }
  const result = await db.insertInto('market_products').values(row).executeTakeFirstOrThrow();
  return Number(result.insertId);
}

export async function updateProduct(
  db: Executor,
  id: number,
  values: { description: string; price: number; now: string },
): Promise<boolean> {
  const result = await db
    .updateTable('market_products')
    .set({ description: values.description, price: values.price, updated_at: values.now })
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function deleteProduct(db: Executor, id: number): Promise<boolean> {
  const result = await db.deleteFrom('market_products').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/**
 * The purchase's one atomic step: takes `amount` only if that much is in stock and, when the
 * buyer named the price they saw, only at that price.
 */
export async function takeStock(
  db: Executor,
  id: number,
  amount: number,
  now: string,
  expectedPrice?: number,
): Promise<boolean> {
  let update = db
    .updateTable('market_products')
    .set({ quantity: sql`quantity - ${amount}`, updated_at: now })
    .where('id', '=', id)
    .where('quantity', '>=', amount);
  if (expectedPrice !== undefined) update = update.where('price', '=', expectedPrice);
  const result = await update.executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Adds stock, unless that would pass `max`. */
export async function addStock(
  db: Executor,
  id: number,
  amount: number,
  max: number,
  now: string,
): Promise<boolean> {
  const result = await db
    .updateTable('market_products')
    .set({ quantity: sql`quantity + ${amount}`, updated_at: now })
    .where('id', '=', id)
    .where('quantity', '<=', max - amount)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function setStock(
  db: Executor,
  id: number,
  quantity: number,
  now: string,
): Promise<void> {
  await db
    .updateTable('market_products')
    .set({ quantity, updated_at: now })
    .where('id', '=', id)
    .execute();
}

export async function insertOrder(
  db: Executor,
  order: Insertable<MarketOrderTable> & { cost: number },
): Promise<void> {
  await db.insertInto('market_orders').values(order).execute();
}

export interface OrderTotals {
  orders: number;
  amount: number;
  cost: number;
}

/** Successful orders of a product: what `stock sold == sum of successful orders` is checked with. */
export async function successfulOrderTotals(db: Executor, productId: number): Promise<OrderTotals> {
  const row = await db
    .selectFrom('market_orders')
    .select((eb) => [
      eb.fn.countAll<number | string>().as('orders'),
      eb.fn.coalesce(eb.fn.sum<number | string>('amount'), eb.lit(0)).as('amount'),
      eb.fn.coalesce(eb.fn.sum<number | string>('cost'), eb.lit(0)).as('cost'),
    ])
    .where('product_id', '=', productId)
    .where('status', '=', 'Success')
    .executeTakeFirstOrThrow();
  return { orders: Number(row.orders), amount: Number(row.amount), cost: Number(row.cost) };
}

/** The ledger, newest first: `limit` orders with ids below `before` (all, without it). */
export async function listOrders(
  db: Executor,
  options: { before?: number; limit: number },
): Promise<Order[]> {
  let query = db.selectFrom('market_orders').selectAll().orderBy('id', 'desc').limit(options.limit);
  if (options.before !== undefined) query = query.where('id', '<', options.before);
  const rows = await query.execute();
  return rows.map((r) => ({ ...r, cost: Number(r.cost) }));
}

/** A row of the ledger, its cost a number (PostgreSQL and MySQL return bigints as strings). */
export type Order = Omit<Selectable<MarketOrderTable>, 'cost'> & { cost: number };

export async function deleteAllProducts(db: Executor): Promise<void> {
  await db.deleteFrom('market_products').execute();
}

/**
 * After rows were inserted with explicit ids, make the next generated id follow them.
 * SQLite and MySQL do this by themselves; a PostgreSQL sequence does not.
 */
export async function syncIdSequence(db: Executor): Promise<void> {
  if (dialectOf(db) !== 'postgres') return;
  await sql`select setval(pg_get_serial_sequence('market_products', 'id'), coalesce((select max(id) from market_products), 0) + 1, false)`.execute(
    db,
  );
}

/** A market without products and without orders: never used. */
export async function isEmpty(db: Executor): Promise<boolean> {
  const product = await db.selectFrom('market_products').select('id').limit(1).executeTakeFirst();
  const order = await db.selectFrom('market_orders').select('id').limit(1).executeTakeFirst();
  return !product && !order;
}

// Idempotency keys --------------------------------------------------------------------------

export type IdempotencyRow = Selectable<MarketIdempotencyTable>;

/** Inserts a pending key; false when the key exists already. */
export async function insertPendingKey(
  db: Executor,
  key: string,
  hash: string,
  now: string,
): Promise<boolean> {
  try {
    await db
      .insertInto('market_idempotency')
      .values({
        key,
        request_hash: hash,
        state: 'pending',
        response: null,
        created_at: now,
        locked_at: now,
      })
      .execute();
    return true;
  } catch (err) {
    if (isUniqueViolation(err)) return false;
    throw err;
  }
}

export function findKey(db: Executor, key: string): Promise<IdempotencyRow | undefined> {
  return db.selectFrom('market_idempotency').selectAll().where('key', '=', key).executeTakeFirst();
}

/** Takes over a pending key whose holder has been silent since before `staleBefore`. */
export async function takeOverStaleKey(
  db: Executor,
  key: string,
  lockedAt: string,
  now: string,
): Promise<boolean> {
  const result = await db
    .updateTable('market_idempotency')
    .set({ locked_at: now })
    .where('key', '=', key)
    .where('state', '=', 'pending')
    .where('locked_at', '=', lockedAt)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function completeKey(db: Executor, key: string, response: string): Promise<void> {
  await db
    .updateTable('market_idempotency')
    .set({ state: 'done', response })
    .where('key', '=', key)
    .execute();
}

export async function deleteKey(db: Executor, key: string, onlyPending = false): Promise<void> {
  let query = db.deleteFrom('market_idempotency').where('key', '=', key);
  if (onlyPending) query = query.where('state', '=', 'pending');
  await query.execute();
}

export async function deleteKeysCreatedBefore(db: Executor, before: string): Promise<number> {
  const result = await db
    .deleteFrom('market_idempotency')
    .where('created_at', '<', before)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
