/** `agora market setup`: loads what it needs when it runs, so the CLI starts quickly. */
import type { Command } from 'commander';
import type { Config } from '../../core/config.js';
import type { CommandContext } from '../../core/module.js';
import type { MarketTables } from './market.tables.js';
import type { TablesOf } from '../../core/db/tables.js';

export function marketCommands(program: Command, { loadConfig }: CommandContext): void {
  program
    .command('market')
    .description('market module commands')
    .command('setup')
    .description(
      'seed the ten products (like the original setup.py): [reset] wipes first, [amount] sets their stock',
    )
    .argument('[args...]', '`reset` and/or a stock amount, in any order')
    .option('-c, --config <file>', 'configuration file (default: ./agora.yaml if present)')
    .option(
      '--db <url>',
      'database: sqlite:PATH, postgres://…, mysql://… (default: SQLite in the data dir)',
    )
    .option('--data-dir <dir>', 'directory of the SQLite file (default ./data)')
    .action(async (args: string[], options: { config?: string; db?: string; dataDir?: string }) => {
      const reset = args.includes('reset');
      const numbers = args.filter((a) => a !== 'reset');
      const amount = numbers.length > 0 ? Number(numbers[0]) : undefined;
      if (
        numbers.length > 1 ||
        (amount !== undefined && (!Number.isInteger(amount) || amount < 0 || amount > 1_000_000))
      ) {
        process.stderr.write(
          'agora market setup: usage: agora market setup [reset] [amount], amount an integer 0–1000000\n',
        );
        process.exitCode = 64;
        return;
      }
      // Loaded here, so that other commands start without the database drivers.
      const [
        { ConfigError },
        { openDatabase, migrateToLatest },
        { migrationSets },
        { createLogger },
        { createMemoryBus },
        { createMarketService },
        { marketMigrations },
      ] = await Promise.all([
        import('../../core/config.js'),
        import('../../core/db/index.js'),
        import('../../core/db/migrations/index.js'),
        import('../../core/logging.js'),
        import('../../core/bus/memory.js'),
        import('./market.service.js'),
        import('./migrations/index.js'),
      ]);
      let config: Config;
      try {
        config = await loadConfig({
          flags: { db: options.db, 'data-dir': options.dataDir },
          ...(options.config ? { configFile: options.config } : {}),
        });
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(`agora market setup: ${err.message}\n`);
        process.exitCode = 64;
        return;
      }
      const logger = createLogger({ ...config, log_level: 'warn' });
      const database = openDatabase(config, logger);
      try {
        await migrateToLatest(
          database.db,
          migrationSets([{ name: 'market', migrations: marketMigrations }]),
        );
        const service = createMarketService({
          db: database.db.withTables<TablesOf<MarketTables>>(),
          prepareRead: database.prepareRead,
          bus: createMemoryBus({ history: 0, logger }),
        });
        const report = await service.setup({ reset, ...(amount ? { amount } : {}) });
        process.stdout.write(
          `market setup: inserted ${report.inserted.length} (${report.inserted.join(', ') || 'none'})` +
            (report.restocked.length > 0
              ? `, restocked ${report.restocked.length} to ${amount}`
              : '') +
            '\n',
        );
      } finally {
        await database.destroy();
      }
    });
}
