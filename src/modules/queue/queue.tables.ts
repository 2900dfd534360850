import type { Generated } from 'kysely';
import type { Database } from '../../core/db/tables.js';

/** Times are epoch milliseconds; bigint columns come back as strings from PostgreSQL and MySQL. */
type Millis = number | string;

export type TokenState = 'waiting' | 'serving' | 'used' | 'expired' | 'left';

export interface QueueTokensTable {
  id: Generated<number>;
  code: string;
  live_code: string | null;
  secret_hash: string;
  state: TokenState;
  issued_at: Millis;
  became_head_at: Millis | null;
  claimed_at: Millis | null;
  view_until: Millis | null;
  ended_at: Millis | null;
  image_url: string | null;
  client_ip: string;
}

export interface QueueStateTable {
  id: number;
  next_index: number;
  viewing_until: Millis;
  head_id: number | null;
  head_code: string | null;
  head_since: Millis | null;
  waiting: number;
}

export interface QueueBansTable {
  ip: string;
  reason: string;
  created_at: Millis;
  expires_at: Millis;
}

export interface QueueTables {
  queue_tokens: QueueTokensTable;
  queue_state: QueueStateTable;
  queue_bans: QueueBansTable;
}

/** The queue module's handle: the core's tables and its own (`app.db.withTables<TablesOf<QueueTables>>()`). */
export type QueueDatabase = Database & QueueTables;
