/**
 * The few places where SQLite, PostgreSQL and MySQL need different SQL, in one file, so
 * migrations and repositories stay dialect-free everywhere else.
 */
import {
  MysqlAdapter,
  PostgresAdapter,
  sql,
  type CreateTableBuilder,
  type ColumnDataType,
  type Expression,
  type Kysely,
} from 'kysely';
import type { DialectName } from './dialect.js';

/** Any Kysely instance or transaction, whatever its tables. */
type AnyKysely = Pick<Kysely<never>, 'getExecutor'>;

/** Which engine a Kysely instance (or transaction) talks to. */
export function dialectOf(db: AnyKysely): DialectName {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof PostgresAdapter) return 'postgres';
  if (adapter instanceof MysqlAdapter) return 'mysql';
  return 'sqlite';
}

/** Adds an auto-incrementing integer primary key `id` (serial on PostgreSQL). */
export function addIdColumn<T extends string>(
  db: AnyKysely,
  table: CreateTableBuilder<T>,
): CreateTableBuilder<T, 'id'> {
  return dialectOf(db) === 'postgres'
    ? table.addColumn('id', 'serial', (c) => c.primaryKey())
    : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}

/** True when `err` is a unique-constraint violation, whatever the engine. */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; errno?: unknown };
  // PostgreSQL 23505, MySQL ER_DUP_ENTRY (1062), SQLite SQLITE_CONSTRAINT_PRIMARYKEY/UNIQUE.
  return (
    e.code === '23505' ||
    e.code === 'ER_DUP_ENTRY' ||
    e.errno === 1062 ||
    e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    e.code === 'SQLITE_CONSTRAINT_UNIQUE'
  );
}

/** A column for binary data up to hundreds of MB (bytea, longblob, blob). */
export function blobColumnType(db: AnyKysely): ColumnDataType | Expression<unknown> {
  switch (dialectOf(db)) {
    case 'postgres':
      return 'bytea';
    case 'mysql':
      return sql`longblob`;
    default:
      return 'blob';
  }
}
