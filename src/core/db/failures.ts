/**
 * Telling a failure of the database — the server gone, unreachable, frozen, shutting down, out of
 * connections, or a statement past its time limit — from an error of the SQL itself, for each
 * driver, by the codes the drivers and servers give (never by message text).
 *
 * A failure becomes a `DependencyError` (503 with `Retry-After`); an SQL error (a unique
 * violation, say) is left alone for the repository that expects it.
 */
import pg from 'pg';

export interface DatabaseFailure {
  /** Safe to log and to show an operator: a code, never SQL, parameters, hosts or users. */
  reason: string;
  /** The connection cannot be trusted any more: destroy it rather than return it to the pool. */
  broken: boolean;
}

/** Node's network errors, whichever driver reports them. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A programming error (a bad value handed to the driver), not something the server did. */
function isBug(err: unknown): boolean {
  return err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError;
}

/**
 * PostgreSQL: server errors are `DatabaseError`s with an SQLSTATE; everything else the client
 * throws (connection terminated, read timeout, socket errors) means the connection is gone.
 */
export function postgresFailure(err: unknown): DatabaseFailure | null {
  if (err instanceof pg.DatabaseError) {
    const state = err.code ?? '';
    // Class 08: connection exception.
    if (state.startsWith('08')) return { reason: `postgres ${state}`, broken: true };
    switch (state) {
      case '57P01': // admin_shutdown: pg_terminate_backend, a restart
      case '57P02': // crash_shutdown
      case '57P03': // cannot_connect_now: starting up, in recovery
      case '53300': // too_many_connections
      case '25P03': // idle_in_transaction_session_timeout: the session is closed
        return { reason: `postgres ${state}`, broken: true };
      case '57014': // query_canceled: statement_timeout (the connection stays usable)
        return { reason: 'postgres statement timeout', broken: false };
      default:
        return null;
    }
  }
  if (isBug(err) || !(err instanceof Error)) return null;
  return { reason: `postgres connection: ${codeOf(err) ?? 'lost'}`, broken: true };
}

/** MariaDB/MySQL server error numbers that mean the server, not the statement, failed. */
const MYSQL_SERVER_FAILURES = new Map<number, string>([
  [1040, 'too many connections'],
  [1053, 'server shutdown'],
  [1927, 'connection killed'],
  [1969, 'statement timeout'],
  [3024, 'statement timeout'],
]);

/**
 * mysql2: an error of the connection carries `fatal: true`; its query timeout
 * (`PROTOCOL_SEQUENCE_TIMEOUT`) does not, yet leaves the connection mid-command.
 */
export function mysqlFailure(err: unknown): DatabaseFailure | null {
  if (!(err instanceof Error)) return null;
  const e = err as Error & { fatal?: unknown; errno?: unknown };
  const code = codeOf(err);
  if (code === 'PROTOCOL_SEQUENCE_TIMEOUT') return { reason: 'mysql query timeout', broken: true };
  if (e.fatal === true || (code !== undefined && NETWORK_CODES.has(code)))
    return { reason: `mysql connection: ${code ?? 'lost'}`, broken: true };
  const server = typeof e.errno === 'number' ? MYSQL_SERVER_FAILURES.get(e.errno) : undefined;
  return server === undefined ? null : { reason: `mysql ${server}`, broken: true };
}

/** SQLite: the file stayed locked by another process past the busy timeout. */
export function sqliteFailure(err: unknown): DatabaseFailure | null {
  const code = codeOf(err);
  if (code === undefined || !(err instanceof Error)) return null;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
    return { reason: 'sqlite busy', broken: false };
  return null;
}
