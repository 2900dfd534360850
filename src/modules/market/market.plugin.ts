/** The market's server part: its routes, service, periodic purge and seeding. */
import type { ErrorEnvelope } from '../../core/errors.js';
import type { ModuleRuntime } from '../../core/module.js';
import { marketMigrations } from './migrations/index.js';
import type { MarketConfig } from './market.config.js';
import { marketRoutes, productRoutes } from './market.routes.js';
import { createMarketService } from './market.service.js';
import type { MarketTables } from './market.tables.js';
import type { TablesOf } from '../../core/db/tables.js';

/** `{error, exe_id}` on every market and product URL, unknown ones included. */
const marketEnvelope: ErrorEnvelope = (e) => ({ error: e.message, exe_id: e.requestId });

export const marketRuntime: ModuleRuntime<MarketConfig> = {
  envelope: marketEnvelope,
  migrations: marketMigrations,
  async plugin(app, { mount, config }) {
    const service = createMarketService({
      db: app.db.withTables<TablesOf<MarketTables>>(),
      prepareRead: app.database.prepareRead,
      bus: app.bus,
      idempotencyTtlMs: config.idempotency_ttl_hours * 3600_000,
      staleKeyMs: config.idempotency_takeover_ms,
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
};
