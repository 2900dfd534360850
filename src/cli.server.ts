/**
 * The server side of the command line: `serve` and `migrate`. cli.ts loads this file only for
 * those two commands, so the client commands start without the server's dependencies.
 */
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { pino, type Logger } from 'pino';
import { loadModules, migrationsOf, selectModules } from './app.js';
import { loadConfig, type Config } from './config.js';
import { ConfigError } from './core/config.js';
import { migrateToLatest, openDatabase, type MigrationReport } from './core/db/index.js';
import { EXIT_DEPENDENCY, StartupError } from './core/errors.js';
import { createLogger, LogFileError } from './core/logging.js';
import { createMailer } from './core/mail.js';
import { exitOnSignals, startServer } from './server.js';

/** Exit codes a supervisor (or a test) can tell apart. */
export const EXIT = { ok: 0, failure: 1, database: EXIT_DEPENDENCY, usage: 64 } as const;

/** Commander's options of `serve` and `migrate`. */
export interface ServerFlags {
  config?: string;
  [flag: string]: unknown;
}

/** Converts commander's camelCase options back to the flag names config knows. */
function flagsOf(options: ServerFlags): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (key === 'config' || value === undefined) continue;
    out[key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)] = value;
  }
  return out;
}

export function configFrom(options: ServerFlags): Config {
  return loadConfig({
    flags: flagsOf(options),
    ...(options.config ? { configFile: options.config } : {}),
  });
}

/** Prints a start-up failure and picks the exit code that names its kind. */
export function failStart(err: unknown): number {
  if (err instanceof ConfigError) {
    process.stderr.write(`agora: ${err.message}\n`);
    return EXIT.usage;
  }
  if (err instanceof LogFileError) {
    process.stderr.write(`agora: ${err.message}\n`);
    return EXIT.failure;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`agora: cannot start: ${message}\n`);
  return err instanceof StartupError ? err.exitCode : EXIT.failure;
}

/** Tells the administrator why the server did not start (when mail is configured). */
async function mailStartupFailure(config: Config, err: unknown, code: number): Promise<void> {
  // The server's logger may be what failed: report on stderr.
  const logger = pino({ level: 'info' }, pino.destination(2));
  const mailer = createMailer(config.mail, logger);
  if (!mailer) return;
  const cause = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  await mailer.send(
    `server failed to start (exit code ${code})`,
    `Agora could not start on ${config.host}:${config.port}.\n\nCause: ${cause}\n`,
  );
}

/** The number of server processes `workers` asks for (`auto`: one per core). */
export function workerCount(workers: string): number {
  return workers === 'auto' ? availableParallelism() : Number(workers);
}

/** Brings the schema of the enabled modules up to date; says what it applied. */
async function migrateDatabase(config: Config, logger: Logger): Promise<MigrationReport[]> {
  const database = openDatabase(config, logger);
  try {
    const modules = await loadModules(selectModules(config));
    return await migrateToLatest(database.db, migrationsOf(modules));
  } finally {
    await database.destroy();
  }
}

/**
 * `agora serve`: runs until a signal; a start-up failure sets the exit code and is mailed. With
 * `--workers N` (N > 1), this process becomes the cluster's primary and each worker runs this
 * same command as a single server.
 */
export async function serve(options: ServerFlags): Promise<void> {
  let config: Config | undefined;
  try {
    config = configFrom(options);
    const workers = workerCount(config.workers);
    if (workers > 1 && cluster.isPrimary) {
      const logger = createLogger(config);
      const { runPrimary } = await import('./core/cluster/primary.js');
      const settled = config;
      const code = await runPrimary({
        config: settled,
        workers,
        logger,
        prepare: async () => {
          await migrateDatabase(settled, logger);
        },
      });
      logger.flush(() => process.exit(code));
      return;
    }
    const server = await startServer(config);
    exitOnSignals(server);
  } catch (err) {
    const code = failStart(err);
    // The workers of a cluster fail alike: one mail, from the first.
    if (config && (cluster.isPrimary || cluster.worker?.id === 1)) {
      await mailStartupFailure(config, err, code);
    }
    process.exitCode = code;
    // A worker's channel to its primary would keep it alive: exit, the primary sees the code.
    if (cluster.isWorker) process.exit(code);
  }
}

/** `agora migrate`: brings the schema of the enabled modules up to date and says what it did. */
export async function migrate(options: ServerFlags): Promise<void> {
  try {
    const config = configFrom(options);
    const reports = await migrateDatabase(config, createLogger(config));
    for (const r of reports) {
      process.stdout.write(
        `${r.set}: ${r.applied.length === 0 ? 'up to date' : `applied ${r.applied.join(', ')}`}\n`,
      );
    }
  } catch (err) {
    process.exitCode = failStart(err);
  }
}
