/**
 * The `agora` command line: `serve` (default), `migrate`, and each module's commands.
 * Every server setting has a flag here, an AGORA_* variable and an agora.yaml key.
 */
import { Command, Option } from 'commander';
import { selectModules } from './app.js';
import { migrationSets } from './core/db/migrations/index.js';
import { ConfigError, loadConfig, type Config } from './core/config.js';
import { migrateToLatest, openDatabase } from './core/db/index.js';
import { EXIT_DEPENDENCY, StartupError } from './core/errors.js';
import { createMailer } from './core/mail.js';
import { pino } from 'pino';
import { createLogger, LogFileError } from './core/logging.js';
import { MODULES } from './modules/index.js';
import { exitOnSignals, startServer } from './server.js';
import { VERSION } from './version.js';

/** Exit codes a supervisor (or a test) can tell apart. */
export const EXIT = { ok: 0, failure: 1, database: EXIT_DEPENDENCY, usage: 64 } as const;

interface ServerFlags {
  config?: string;
  [flag: string]: unknown;
}

function addServerOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', 'configuration file (default: ./agora.yaml if present)')
    .option('--host <address>', 'address to listen on (default 127.0.0.1)')
    .option('-p, --port <number>', 'port to listen on (default 8080; 0 picks a free one)')
    .option(
      '--db <url>',
      'database: sqlite:PATH, postgres://…, mysql://… (default: SQLite in the data dir)',
    )
    .option('--db-pool-max <number>', 'connection pool size for PostgreSQL/MySQL (default 10)')
    .option(
      '--redis-url <url>',
      'Redis for the bus shared by several nodes (default: in-process bus)',
    )
    .option('--data-dir <dir>', 'directory for the SQLite file and blobs (default ./data)')
    .option('--modules <list>', 'comma-separated modules to run (default: all)')
    .option('--log-file <file>', 'also write JSON logs to this file')
    .addOption(
      new Option('--log-level <level>', 'log level').choices([
        'fatal',
        'error',
        'warn',
        'info',
        'debug',
        'trace',
        'silent',
      ]),
    )
    .option('--pretty', 'human-readable logs (needs the pino-pretty dev dependency)');
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

function configFrom(options: ServerFlags): Config {
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

export function createProgram(): Command {
  const program = new Command('agora')
    .description('Agora: market, queue, numbers, images and tax services on one core')
    .version(VERSION)
    .showHelpAfterError();

  addServerOptions(
    program
      .command('serve', { isDefault: true })
      .description('run the HTTP server (default command)'),
  ).action(async (options: ServerFlags) => {
    let config: Config | undefined;
    try {
      config = configFrom(options);
      const server = await startServer(config);
      exitOnSignals(server);
    } catch (err) {
      const code = failStart(err);
      if (config) await mailStartupFailure(config, err, code);
      process.exitCode = code;
    }
  });

  addServerOptions(
    program
      .command('migrate')
      .description('bring the database schema of the enabled modules up to date'),
  ).action(async (options: ServerFlags) => {
    try {
      const config = configFrom(options);
      const logger = createLogger(config);
      const database = openDatabase(config, logger);
      try {
        const reports = await migrateToLatest(database.db, migrationSets(selectModules(config)));
        for (const r of reports) {
          process.stdout.write(
            `${r.set}: ${r.applied.length === 0 ? 'up to date' : `applied ${r.applied.join(', ')}`}\n`,
          );
        }
      } finally {
        await database.destroy();
      }
    } catch (err) {
      process.exitCode = failStart(err);
    }
  });

  for (const mod of MODULES) {
    mod.commands?.(program, () => loadConfig());
  }
  return program;
}
