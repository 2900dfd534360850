import type { Migration } from 'kysely';
import * as m0001 from './0001_market.js';

export const marketMigrations: Record<string, Migration> = {
  '0001_market': m0001,
};
