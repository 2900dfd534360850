/**
 * The composed Kysely `Database` interface: the core's tables plus each module's
 * (`src/modules/<name>/<name>.tables.ts`), added here as modules arrive.
 */

import type { MarketTables } from '../../modules/market/market.tables.js';
import type { TaxTables } from '../../modules/tax/tax.tables.js';

export interface AgoraMetaTable {
  key: string;
  value: string;
  updated_at: string;
}

export interface CoreTables {
  agora_meta: AgoraMetaTable;
}

export type Database = CoreTables & MarketTables & TaxTables;
