/**
 * The `agora` command line: `serve` (default), `migrate`, and each module's commands.
 * Every server setting has a flag here, an AGORA_* variable and an agora.yaml key.
 *
 * Only commander and the commands' definitions load up front; each action imports what it needs,
 * so a client command (`agora images meta …`) starts without the server, drivers or schemas.
 */
import { Command, Option } from 'commander';
import type { ServerFlags } from './cli.server.js';
import { addModuleCommands } from './modules/commands.js';
import { VERSION } from './version.js';

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
    await (await import('./cli.server.js')).serve(options);
  });

  addServerOptions(
    program
      .command('migrate')
      .description('bring the database schema of the enabled modules up to date'),
  ).action(async (options: ServerFlags) => {
    await (await import('./cli.server.js')).migrate(options);
  });

  addModuleCommands(program, async (sources) =>
    (await import('./core/config.js')).loadConfig(sources),
  );
  return program;
}
