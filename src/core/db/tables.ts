/**
 * The core's tables. A module adds its own to its handle with Kysely's `withTables`
 * (`app.db.withTables<MarketTables>()`), so no type here names a module's table.
 */

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

/** What every handle sees: the core's tables (a module's handle adds its own). */
export type Database = CoreTables;

/**
 * A module's tables as Kysely's `withTables` takes them (`app.db.withTables<TablesOf<X>>()`): it
 * wants a type with an index signature, which an interface does not have and a mapped type does.
 */
export type TablesOf<T> = { [K in keyof T]: { [C in keyof T[K]]: T[K][C] } };
