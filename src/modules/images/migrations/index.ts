import type { Migration } from 'kysely';
import * as m0001 from './0001_images.js';

export const imagesMigrations: Record<string, Migration> = {
  '0001_images': m0001,
};
