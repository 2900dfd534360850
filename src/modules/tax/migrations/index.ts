import type { Migration } from 'kysely';
import * as m0001 from './0001_admin_data.js';

export const taxMigrations: Record<string, Migration> = {
  '0001_admin_data': m0001,
};
