/**
 * The SQL database: Kysely over better-sqlite3 (embedded default), pg or mysql2, chosen by the
 * `db` setting; per-module migrations; a readiness probe. Nothing is opened at import time.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  Migrator,
  MysqlDialect,
  PostgresDialect,
  SqliteDialect,
  SqliteAdapter,
  SqliteDriver,
  sql,
  type DatabaseConnection,
  type Driver,
  type Dialect,
  type Migration,
  type MigrationResult,
  type SqliteDialectConfig,
  type SqliteDatabase,
  type SqliteStatement,
  type Compilable,
} from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import { redactUrl } from '../config.js';
import { DependencyError, EXIT_DEPENDENCY, StartupError } from '../errors.js';
import { within } from '../timeout.js';
import { sqliteFailure } from './failures.js';
import { postgresPool, mysqlPool, type PoolOptions } from './pools.js';
import { startCheckpointer, type Checkpointer, type CheckpointResult } from './checkpointer.js';
import { resolveDatabase, type DialectName } from './dialect.js';
import type { Database } from './tables.js';

export type { Database } from './tables.js';
export type { DialectName } from './dialect.js';

/** A read compiled once; takes its parameters in the order the compiled SQL uses them. */
export type PreparedRead<Row> = (parameters: readonly unknown[]) => Row[] | Promise<Row[]>;

export interface DatabaseHandle {
  db: Kysely<Database>;
  /**
   * Compiles `query` once (the values it was built with only hold the parameters' places) for a
   * hot read: each call skips Kysely's building and compiling. On an SQLite file the read runs
   * synchronously on a second, query-only connection, outside the writer's lock: WAL shows it
   * every committed write and never a transaction in progress. Elsewhere it goes through the pool.
   */
  prepareRead: <Row>(query: Compilable<Row>) => PreparedRead<Row>;
  dialect: DialectName;
  /** Where the data lives, safe to log (passwords masked). */
  description: string;
  /**
   * On an SQLite file, runs a WAL checkpoint now on the checkpoint worker (which otherwise runs
   * them periodically) and says what it did; elsewhere resolves to null.
   */
  checkpoint(): Promise<CheckpointResult | null>;
  /** Resolves when a trivial query succeeds within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<void>;
  destroy(): Promise<void>;
}

/** A module's (or the core's) migrations, recorded in their own `migrations_<name>` table. */
export interface MigrationSet {
  name: string;
  migrations: Record<string, Migration>;
}

const SQLITE_BUSY_TIMEOUT_MS = 5000;
/** What the WAL file is cut back to once checkpointed (it stayed at 133 MB after a load). */
export const WAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * SQLite transactions that take the write lock when they begin. A deferred transaction that
 * reads and then writes fails with SQLITE_BUSY when another process wrote in between (WAL cannot
 * upgrade a stale snapshot); an immediate one waits its turn instead. This is what makes several
 * processes on one file (and concurrent migrations) safe.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  readonly #turns = new FifoLock();

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  /**
   * The one connection is handed to waiters in arrival order, one wake-up per hand-off. (The
   * base driver's lock wakes every waiter on each release and all but one wait again: with many
   * concurrent requests that costs more than the queries.)
   */
  override async acquireConnection(): Promise<DatabaseConnection> {
    await this.#turns.lock();
    return super.acquireConnection();
  }

  override async releaseConnection(): Promise<void> {
    await super.releaseConnection();
    this.#turns.unlock();
  }
}

/** A mutual-exclusion lock that admits waiters first come, first served. */
export class FifoLock {
  #held = false;
  readonly #waiting: (() => void)[] = [];

  lock(): Promise<void> {
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  unlock(): void {
    const next = this.#waiting.shift();
    // The lock passes straight to the next waiter, or is free.
    if (next) next();
    else this.#held = false;
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

const STATEMENT_CACHE_SIZE = 500;

/** Runs `fn`; SQLITE_BUSY past the busy timeout becomes a `DependencyError` (503). */
function orBusy<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const failure = sqliteFailure(err);
    if (failure === null) throw err;
    throw new DependencyError('database', failure.reason, { cause: err });
  }
}

/** A statement whose lock timeouts reach the caller as 503s (see `orBusy`). */
function guardedStatement(statement: SQLite.Statement): SqliteStatement {
  return {
    reader: statement.reader,
    all: (parameters) => orBusy(() => statement.all(parameters)),
    run: (parameters) => orBusy(() => statement.run(parameters)),
    iterate: (parameters) => orBusy(() => statement.iterate(parameters)),
  };
}

/**
 * better-sqlite3 behind a cache of prepared statements, keyed by SQL text. Kysely prepares every
 * query it runs; preparing costs more than running a point query, and Kysely's SQL is
 * parameterised, so the same few texts come back again and again. Kysely's driver holds one
 * connection behind a mutex, so a cached statement is never in use twice at once.
 */
function withStatementCache(database: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    prepare(text: string): SqliteStatement {
      let statement = cache.get(text);
      if (statement === undefined) {
        statement = guardedStatement(database.prepare(text));
        if (cache.size >= STATEMENT_CACHE_SIZE) {
          const oldest = cache.keys().next().value;
          if (oldest !== undefined) cache.delete(oldest);
        }
        cache.set(text, statement);
      }
      return statement;
    },
    close() {
      cache.clear();
      database.close();
    },
  };
}

/** How often the checkpoint worker copies the WAL into the database (see checkpointer.ts). */
const CHECKPOINT_INTERVAL_MS = 250;

function sqliteDialect(
  location: string,
  logger: FastifyBaseLogger,
): { dialect: Dialect; checkpointer: Checkpointer | null } {
  const file = location !== ':memory:';
  if (file) mkdirSync(path.dirname(location), { recursive: true });
  const database = new SQLite(location, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  // WAL lets readers run beside the writer and several processes share the file safely.
  if (file) database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  // The WAL grows while checkpoints cannot reset it (a burst of writes, long readers) and never
  // shrinks by itself: once a checkpoint has caught up, the next write cuts it back to this.
  database.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
  const checkpointer = file
    ? startCheckpointer({
        database,
        location,
        intervalMs: CHECKPOINT_INTERVAL_MS,
        busyTimeoutMs: SQLITE_BUSY_TIMEOUT_MS,
        logger,
      })
    : null;
  return {
    dialect: new ImmediateSqliteDialect({ database: withStatementCache(database) }),
    checkpointer,
  };
}

/** The query-only connection of `prepareRead`, opened at its first use (after migrations). */
function sqliteReader(location: string): { prepare(sql: string): SQLite.Statement; close(): void } {
  let reader: SQLite.Database | null = null;
  let closed = false;
  return {
    prepare(text) {
      if (closed) throw new Error('the database is closed');
      if (reader === null) {
        reader = new SQLite(location, { timeout: SQLITE_BUSY_TIMEOUT_MS });
        reader.pragma('query_only = ON');
      }
      return reader.prepare(text);
    },
    close() {
      closed = true;
      reader?.close();
    },
  };
}

/** Opens (lazily, for pooled engines) the configured database. */
export function openDatabase(
  config: Pick<
    Config,
    'db' | 'data_dir' | 'db_pool_max' | 'db_connect_timeout_ms' | 'db_query_timeout_ms'
  >,
  logger: FastifyBaseLogger,
): DatabaseHandle {
  const target = resolveDatabase(config.db, config.data_dir);
  const pool: PoolOptions = {
    url: target.location,
    max: config.db_pool_max,
    connectTimeoutMs: config.db_connect_timeout_ms,
    queryTimeoutMs: config.db_query_timeout_ms,
    logger,
  };
  let dialect: Dialect;
  let checkpointer: Checkpointer | null = null;
  switch (target.dialect) {
    case 'sqlite':
      ({ dialect, checkpointer } = sqliteDialect(target.location, logger));
      break;
    case 'postgres':
      dialect = new PostgresDialect({ pool: postgresPool(pool) });
      break;
    case 'mysql':
      dialect = new MysqlDialect({ pool: mysqlPool(pool) });
      break;
  }
  const db = new Kysely<Database>({ dialect });
  // An in-memory database exists on its one connection only: its reads stay on it.
  const reader =
    target.dialect === 'sqlite' && target.location !== ':memory:'
      ? sqliteReader(target.location)
      : null;
  let destroyed: Promise<void> | undefined;
  return {
    db,
    prepareRead: <Row>(query: Compilable<Row>): PreparedRead<Row> => {
      const compiled = query.compile();
      if (reader !== null) {
        let statement: SQLite.Statement | undefined;
        return (parameters) => {
          statement ??= reader.prepare(compiled.sql);
          return statement.all(parameters) as Row[];
        };
      }
      return async (parameters) =>
        (await db.executeQuery<Row>({ ...compiled, parameters: [...parameters] })).rows;
    },
    dialect: target.dialect,
    description:
      target.dialect === 'sqlite' ? `sqlite:${target.location}` : redactUrl(target.location),
    async ping(timeoutMs = 2000) {
      // Touch a table of ours: a server that answers but lost our schema is not ready either.
      await within(sql`select count(*) from agora_meta`.execute(db), timeoutMs, 'database');
    },
    checkpoint: () => checkpointer?.now() ?? Promise.resolve(null),
    destroy() {
      reader?.close();
      destroyed ??= (async () => {
        await checkpointer?.close();
        await db.destroy();
      })();
      return destroyed;
    },
  };
}

export interface MigrationReport {
  set: string;
  applied: string[];
}

/** The database could not be reached or brought up to date: exit code 2. */
export class MigrationError extends StartupError {
  override name = 'MigrationError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT_DEPENDENCY, options);
  }
}

/**
 * Brings every set's schema up to date, one set after another. Safe to run from several
 * processes at once: Kysely takes a lock row per set.
 */
export async function migrateToLatest(
  db: Kysely<Database>,
  sets: readonly MigrationSet[],
): Promise<MigrationReport[]> {
  if (db.getExecutor().adapter instanceof SqliteAdapter) {
    // Kysely neither locks nor wraps SQLite migrations in a transaction; with several processes
    // on one file, an immediate transaction around the whole run is the lock.
    return db.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        const reports = await runMigrations(conn, sets);
        await sql`commit`.execute(conn);
        return reports;
      } catch (err) {
        await sql`rollback`.execute(conn).catch(() => undefined);
        throw err;
      }
    });
  }
  return runMigrations(db, sets);
}

async function runMigrations(
  db: Kysely<Database>,
  sets: readonly MigrationSet[],
): Promise<MigrationReport[]> {
  const reports: MigrationReport[] = [];
  for (const set of sets) {
    const migrator = new Migrator({
      db,
      provider: { getMigrations: () => Promise.resolve(set.migrations) },
      migrationTableName: `migrations_${set.name}`,
      migrationLockTableName: `migrations_${set.name}_lock`,
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const failed = results?.find((r: MigrationResult) => r.status === 'Error');
      const cause = error instanceof Error ? error.message : 'unknown error';
      throw new MigrationError(
        `Migration ${set.name}${failed ? `/${failed.migrationName}` : ''} failed: ${cause}`,
        { cause: error },
      );
    }
    reports.push({
      set: set.name,
      applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName),
    });
  }
  return reports;
}
