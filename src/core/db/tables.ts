/**
 * The composed Kysely `Database` interface: the core's tables plus each module's
 * (`src/modules/<name>/<name>.tables.ts`), added here as modules arrive.
 */

import type { ImagesTables } from '../../modules/images/images.tables.js';
import type { MarketTables } from '../../modules/market/market.tables.js';
import type { QueueTables } from '../../modules/queue/queue.tables.js';
import type { TaxTables } from '../../modules/tax/tax.tables.js';

export interface AgoraMetaTable {
  key: string;
  value: string;
  updated_at: string;
}

export interface AgoraBlobsTable {
  sha256: string;
  data: Buffer;
  bytes: number;
  created_at: string;
}

export interface CoreTables {
  agora_meta: AgoraMetaTable;
  agora_blobs: AgoraBlobsTable;
}

export type Database = CoreTables & MarketTables & ImagesTables & QueueTables & TaxTables;
