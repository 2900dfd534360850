import type { Generated } from 'kysely';
import type { Database } from '../../core/db/tables.js';

export interface MarketProductTable {
  id: Generated<number>;
  description: string;
  price: number;
  quantity: number;
  created_at: string;
  updated_at: string;
}

/** One row per purchase attempt that passed validation: the ledger. */
export interface MarketOrderTable {
  id: Generated<number>;
  product_id: number;
  amount: number;
  unit_price: number;
  /** bigint: PostgreSQL and MySQL return it as a string. */
  cost: number | string;
  status: 'Success' | 'Failure';
  /** The only part of a card number ever stored. */
  card_last4: string;
  request_id: string;
  created_at: string;
}

export interface MarketIdempotencyTable {
  key: string;
  request_hash: string;
  state: 'pending' | 'done';
  /** The JSON answer to replay, once done. */
  response: string | null;
  created_at: string;
  /** When the pending holder started (a crashed holder's key is taken over after a while). */
  locked_at: string;
}

export interface MarketTables {
  market_products: MarketProductTable;
  market_orders: MarketOrderTable;
  market_idempotency: MarketIdempotencyTable;
}

/** The market module's handle: the core's tables and its own (`app.db.withTables<TablesOf<MarketTables>>()`). */
export type MarketDatabase = Database & MarketTables;
