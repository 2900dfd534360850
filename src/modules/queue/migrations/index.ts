import type { Migration } from 'kysely';
import * as m0001 from './0001_queue.js';

export const queueMigrations: Record<string, Migration> = {
  '0001_queue': m0001,
};
