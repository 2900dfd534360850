/**
 * Connection pools for PostgreSQL and MariaDB/MySQL that fail fast and never take the process
 * down when the server or the network does:
 *
 * - every wait is bounded: opening a connection or waiting for a free one (`connectTimeoutMs`),
 *   each statement (`queryTimeoutMs`: on the server, and on the client for a frozen connection);
 * - TCP keep-alive finds connections whose peer vanished while they sat idle;
 * - a connection that fails while checked out emits `error` with nobody waiting for it: a
 *   listener on every connection logs it (an unhandled `error` event would end the process);
 * - a failure of the connection (not of the SQL) reaches the caller as a `DependencyError`
 *   (503), and that connection is destroyed instead of going back to the pool.
 *
 * Failures are logged through the logger's error serializer (logging.ts), which keeps a driver's
 * client object (it holds the server's cancel key), SQL and parameters out of every line.
 */
import type { FastifyBaseLogger } from 'fastify';
import type {
  MysqlPool,
  MysqlPoolConnection,
  MysqlQueryResult,
  MysqlStream,
  MysqlStreamOptions,
  PostgresCursor,
  PostgresPool,
  PostgresPoolClient,
  PostgresQueryResult,
} from 'kysely';
import { createPool as createMysqlPool, type PoolConnection } from 'mysql2';
import pg from 'pg';
import { DependencyError } from '../errors.js';
import { mysqlFailure, postgresFailure, type DatabaseFailure } from './failures.js';

export interface PoolOptions {
  url: string;
  max: number;
  /** Longest wait to open a connection or to get a free one. */
  connectTimeoutMs: number;
  /** Longest a statement may run. */
  queryTimeoutMs: number;
  logger: FastifyBaseLogger;
}

/** Idle time before the first keep-alive probe. */
const KEEPALIVE_MS = 10_000;
/**
 * The client gives a statement this much longer than the server does, so that the server's own
 * timeout (which keeps the connection usable) normally fires first; the client's catches a
 * connection that stopped answering altogether.
 */
const CLIENT_GRACE_MS = 1000;

function unavailable(
  failure: Pick<DatabaseFailure, 'reason'> | null,
  err: unknown,
): DependencyError {
  return new DependencyError(
    'database',
    failure?.reason ?? 'no connection',
    err === null ? undefined : { cause: err },
  );
}

/** A pooled pg client whose connection failures become `DependencyError`s. */
class GuardedPostgresClient implements PostgresPoolClient {
  #broken = false;
  constructor(private readonly client: pg.PoolClient) {}

  query<R>(sql: string, parameters: readonly unknown[]): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(
    sqlOrCursor: string | PostgresCursor<R>,
    parameters?: readonly unknown[],
  ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    if (typeof sqlOrCursor !== 'string') {
      return this.client.query(
        sqlOrCursor as unknown as pg.Submittable,
      ) as unknown as PostgresCursor<R>;
    }
    return this.run<R>(sqlOrCursor, parameters ?? []);
  }

  private async run<R>(
    text: string,
    parameters: readonly unknown[],
  ): Promise<PostgresQueryResult<R>> {
    // After a failure of the connection, the transaction's rollback (and anything else) fails at
    // once instead of waiting out another timeout on a connection known to be gone.
    if (this.#broken) throw unavailable({ reason: 'postgres connection: failed before' }, null);
    try {
      return (await this.client.query(text, [...parameters])) as unknown as PostgresQueryResult<R>;
    } catch (err) {
      const failure = postgresFailure(err);
      if (failure === null) throw err;
      if (failure.broken) this.#broken = true;
      throw unavailable(failure, err);
    }
  }

  release(): void {
    const broken = this.#broken;
    this.#broken = false;
    // `release(true)` destroys the connection instead of pooling it.
    this.client.release(broken);
  }
}

export function postgresPool(options: PoolOptions): PostgresPool {
  const { logger } = options;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max,
    connectionTimeoutMillis: options.connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_MS,
    statement_timeout: options.queryTimeoutMs,
    query_timeout: options.queryTimeoutMs + CLIENT_GRACE_MS,
    // A session left in a transaction by a node that froze or lost its network holds row locks:
    // the server ends it rather than make every other node wait.
    idle_in_transaction_session_timeout: options.queryTimeoutMs,
  });
  // pg-pool re-emits an idle client's error here: without a listener that would be fatal. The
  // client's own listener (below) has already logged it.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', (err) => {
      logger.warn({ err }, 'postgres: a connection failed; it is replaced');
    });
  });
  const guarded = new WeakMap<pg.PoolClient, GuardedPostgresClient>();
  return {
    async connect() {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw unavailable(postgresFailure(err), err);
      }
      let guard = guarded.get(client);
      if (guard === undefined) {
        guard = new GuardedPostgresClient(client);
        guarded.set(client, guard);
      }
      return guard;
    },
    end: () => pool.end(),
  };
}

/** What a query without a callback gives: its rows as a stream. */
interface Streamable {
  stream: <T>(options: MysqlStreamOptions) => MysqlStream<T>;
}

/** A pooled mysql2 connection whose connection failures become `DependencyError`s. */
class GuardedMysqlConnection implements MysqlPoolConnection {
  #broken = false;
  constructor(
    private readonly connection: PoolConnection,
    private readonly queryTimeoutMs: number,
  ) {}

  query(sql: string, parameters: unknown[]): Streamable;
  query(
    sql: string,
    parameters: unknown[],
    callback: (error: unknown, result: MysqlQueryResult) => void,
  ): void;
  query(
    sql: string,
    parameters: unknown[],
    callback?: (error: unknown, result: MysqlQueryResult) => void,
  ): Streamable | undefined {
    if (callback === undefined) {
      // Streaming (Kysely's `stream()`): the caller consumes the rows and owns their errors.
      return this.connection.query(sql, parameters);
    }
    if (this.#broken) {
      // As for PostgreSQL: a connection known to be gone is not waited on again.
      callback(
        unavailable({ reason: 'mysql connection: failed before' }, null),
        undefined as never,
      );
      return undefined;
    }
    this.connection.query(
      { sql, values: parameters, timeout: this.queryTimeoutMs },
      (err: unknown, result: unknown) => {
        if (err) {
          const failure = mysqlFailure(err);
          if (failure === null) {
            callback(err, undefined as never);
            return;
          }
          if (failure.broken) this.#broken = true;
          callback(unavailable(failure, err), undefined as never);
          return;
        }
        callback(null, result as MysqlQueryResult);
      },
    );
    return undefined;
  }

  release(): void {
    const broken = this.#broken;
    this.#broken = false;
    if (broken) this.connection.destroy();
    else this.connection.release();
  }
}

export function mysqlPool(options: PoolOptions): MysqlPool {
  const { logger } = options;
  const pool = createMysqlPool({
    uri: options.url,
    connectionLimit: options.max,
    connectTimeout: options.connectTimeoutMs,
    enableKeepAlive: true,
    keepAliveInitialDelay: KEEPALIVE_MS,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    charset: 'utf8mb4',
  });
  pool.on('connection', (connection) => {
    // mysql2's pool listens once; a second error on the same connection must not be fatal.
    connection.on('error', (err: unknown) => {
      logger.warn({ err }, 'mysql: a connection failed; it is replaced');
    });
  });
  const guarded = new WeakMap<PoolConnection, GuardedMysqlConnection>();
  return {
    getConnection(callback) {
      // mysql2 bounds opening a connection, not waiting for a free one: this bounds both.
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        callback(
          new DependencyError(
            'database',
            `mysql: no connection within ${options.connectTimeoutMs} ms`,
          ),
          undefined as never,
        );
      }, options.connectTimeoutMs);
      pool.getConnection((err, connection) => {
        if (settled) {
          // The caller gave up already: hand the late connection straight back.
          if (!err) connection.release();
          return;
        }
        settled = true;
        clearTimeout(timer);
        if (err) {
          callback(unavailable(mysqlFailure(err), err), undefined as never);
          return;
        }
        let guard = guarded.get(connection);
        if (guard === undefined) {
          guard = new GuardedMysqlConnection(connection, options.queryTimeoutMs);
          guarded.set(connection, guard);
        }
        callback(null, guard);
      });
    },
    end(callback) {
      pool.end(callback);
    },
  };
}
