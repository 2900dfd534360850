/**
 * Markers: rows of `agora_meta` that record work done once for the whole database (the market's
 * first seeding, the queue's demo pictures), whatever the number of nodes starting together.
 * The key's unique index decides which node does it.
 */
import type { Kysely, Transaction } from 'kysely';
import { isUniqueViolation } from './portable.js';
import type { Database } from './tables.js';

type Executor = Kysely<Database> | Transaction<Database>;

/**
 * Records `key`. Throws a unique violation when it is recorded already: inside a transaction,
 * that ends the transaction (PostgreSQL aborts it anyway), and the caller catches it outside.
 */
export async function insertMarker(db: Executor, key: string, at: string): Promise<void> {
  await db.insertInto('agora_meta').values({ key, value: at, updated_at: at }).execute();
}

/** Records `key` outside a transaction: true when this call recorded it, false if it was there. */
export async function claimMarker(db: Kysely<Database>, key: string, at: string): Promise<boolean> {
  try {
    await insertMarker(db, key, at);
    return true;
  } catch (err) {
    if (isUniqueViolation(err)) return false;
    throw err;
  }
}
