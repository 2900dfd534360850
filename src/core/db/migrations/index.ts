import type { Migration } from 'kysely';
import * as m0001 from './0001_meta.js';

/** The core's own migrations, by name (names sort in the order they must run). */
export const coreMigrations: Record<string, Migration> = {
  '0001_meta': m0001,
};
