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

/** A blob's index row; since 0003 its bytes are in `agora_blob_chunks` and `data` is empty. */
export interface AgoraBlobsTable {
  sha256: string;
  data: Buffer;
  bytes: number;
  created_at: string;
}

export interface AgoraBlobChunksTable {
  sha256: string;
  /** 0, 1, 2…: the chunk's place in the blob. */
  seq: number;
  data: Buffer;
}

export interface CoreTables {
  agora_meta: AgoraMetaTable;
  agora_blobs: AgoraBlobsTable;
  agora_blob_chunks: AgoraBlobChunksTable;
}

export type Database = CoreTables & MarketTables & ImagesTables & QueueTables & TaxTables;
