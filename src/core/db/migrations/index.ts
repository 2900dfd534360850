import type { Migration } from 'kysely';
import * as m0001 from './0001_meta.js';
import * as m0002 from './0002_blobs.js';
import * as m0003 from './0003_blob_chunks.js';

/** The core's own migrations, by name (names sort in the order they must run). */
export const coreMigrations: Record<string, Migration> = {
  '0001_meta': m0001,
  '0002_blobs': m0002,
  '0003_blob_chunks': m0003,
};

/** Every migration set the given modules need, the core's first (see `migrateToLatest`). */
export function migrationSets(
  modules: readonly { name: string; migrations?: Record<string, Migration> }[],
): { name: string; migrations: Record<string, Migration> }[] {
  return [
    { name: 'core', migrations: coreMigrations },
    ...modules.flatMap((m) => (m.migrations ? [{ name: m.name, migrations: m.migrations }] : [])),
  ];
}
