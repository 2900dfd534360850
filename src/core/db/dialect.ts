/**
 * Which SQL engine a `db` setting names. Kept apart from the connection code so configuration,
 * tests and the CLI can reason about a URL without opening anything.
 */
import path from 'node:path';

export type DialectName = 'sqlite' | 'postgres' | 'mysql';

export interface DatabaseTarget {
  dialect: DialectName;
  /** SQLite: a file path or `:memory:`; others: the connection URL. */
  location: string;
}

/** Resolves the `db` setting (empty: SQLite in the data directory). */
export function resolveDatabase(db: string, dataDir: string): DatabaseTarget {
  if (db === '') return { dialect: 'sqlite', location: path.resolve(dataDir, 'agora.db') };
  if (db === ':memory:' || db === 'sqlite::memory:')
    return { dialect: 'sqlite', location: ':memory:' };
  if (db.startsWith('sqlite:'))
    return {
      dialect: 'sqlite',
      location: path.resolve(db.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '')),
    };
  if (db.startsWith('file:'))
    return { dialect: 'sqlite', location: path.resolve(db.slice('file:'.length)) };
  if (/^postgres(ql)?:\/\//.test(db)) return { dialect: 'postgres', location: db };
  if (/^(mysql|mariadb):\/\//.test(db))
    return { dialect: 'mysql', location: db.replace(/^mariadb:/, 'mysql:') };
  throw new Error(`Unsupported database URL: ${db}`);
}
