/**
 * The market module: products, stock, purchases that never oversell, live notifications, and
 * the `agora market setup` command.
 */
import type { Command } from 'commander';
import type { Config } from '../../core/config.js';
import { openDatabase, migrateToLatest } from '../../core/db/index.js';
import type { ErrorEnvelope } from '../../core/errors.js';
import { createLogger } from '../../core/logging.js';
import type { AgoraModule } from '../../core/module.js';
import { migrationSets } from '../../core/db/migrations/index.js';
import { createMemoryBus } from '../../core/bus/memory.js';
import { marketMigrations } from './migrations/index.js';
import { marketRoutes, productRoutes } from './market.routes.js';
import { createMarketService } from './market.service.js';

export { createMarketService, type MarketService } from './market.service.js';
export { SEED_PRODUCTS } from './market.seed.js';

/** `{error, exe_id}` on every market and product URL, unknown ones included. */
export const marketEnvelope: ErrorEnvelope = (e) => ({ error: e.message, exe_id: e.requestId });

function setupCommand(program: Command, loadConfig: () => Config): void {
  program
    .command('market')
    .description('market module commands')
    .command('setup')
    .description(
      'seed the ten products (like the original setup.py): [reset] wipes first, [amount] sets their stock',
    )
    .argument('[args...]', '`reset` and/or a stock amount, in any order')
    .action(async (args: string[]) => {
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
      const config = loadConfig();
      const logger = createLogger({ ...config, log_level: 'warn' });
      const database = openDatabase(config, logger);
      try {
        await migrateToLatest(
          database.db,
          migrationSets([{ name: 'market', migrations: marketMigrations }]),
        );
        const service = createMarketService({
          db: database.db,
          prepareRead: database.prepareRead,
          bus: createMemoryBus({ history: 0, logger }),
          logger,
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

export const marketModule: AgoraModule = {
  name: 'market',
  title: 'Market',
  description:
    'Products, stock and purchases that never oversell, with live price and new-product notifications.',
  defaultPrefix: '/market',
  page: '/',
  envelope: marketEnvelope,
  migrations: marketMigrations,
  async plugin(app, { mount }) {
    const config = app.config.market;
    const service = createMarketService({
      db: app.db,
      prepareRead: app.database.prepareRead,
      bus: app.bus,
      logger: app.log.child({ module: 'market' }),
      idempotencyTtlMs: config.idempotency_ttl_hours * 3600_000,
      readCacheMs: config.read_cache_ms,
    });
    app.useErrorEnvelope(config.product_prefix, marketEnvelope);
    await app.register(marketRoutes, { prefix: mount, service });
    await app.register(productRoutes, { prefix: config.product_prefix, service });
    if (config.seed && (await service.seedOnFirstStart()))
      app.log.info('market: seeded the ten starter products');

    const purge = setInterval(() => {
      service.purgeExpiredKeys().catch((err: unknown) => {
        app.log.warn({ err }, 'market: could not purge expired idempotency keys');
      });
    }, 3600_000);
    purge.unref();
    app.addHook('onClose', async () => {
      clearInterval(purge);
      service.close();
    });
  },
  commands: setupCommand,
};
