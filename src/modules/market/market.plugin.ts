/** The market's server part: its routes, service, periodic purge and seeding. */
import type { ErrorEnvelope } from '../../core/errors.js';
import { every } from '../../core/jobs.js';
import { isRecord } from '../../core/validation.js';
import type { ModuleRuntime } from '../../core/module.js';
import { marketMigrations } from './migrations/index.js';
import type { MarketConfig } from './market.config.js';
import { marketRoutes, productRoutes } from './market.routes.js';
import { createMarketService } from './market.service.js';
import type { MarketTables } from './market.tables.js';
import type { TablesOf } from '../../core/db/tables.js';

/**
 * `{error, exe_id}` on every market and product URL, unknown ones included; a changed price
 * also says the price now (`price`), which a client confirms with.
 */
const marketEnvelope: ErrorEnvelope = (e) =>
  e.code === 'PRICE_CHANGED' && isRecord(e.details)
    ? { error: e.message, exe_id: e.requestId, price: e.details.price }
    : { error: e.message, exe_id: e.requestId };

export const marketRuntime: ModuleRuntime<MarketConfig> = {
  envelope: marketEnvelope,
  migrations: marketMigrations,
  async plugin(app, { routePrefix: prefix, config }) {
    const service = createMarketService({
      db: app.db.withTables<TablesOf<MarketTables>>(),
      prepareRead: app.database.prepareRead,
      bus: app.bus,
      idempotencyTtlMs: config.idempotency_ttl_hours * 3600_000,
      staleKeyMs: config.idempotency_takeover_ms,
      readCacheMs: config.read_cache_ms,
    });
    app.useErrorEnvelope(config.product_prefix, marketEnvelope);
    await app.register(marketRoutes, {
      prefix,
      service,
      numericCard: config.compat,
      currency: config.currency,
    });
    // The original answered `GET /` with its status; browsers keep Agora's landing page.
    if (config.compat) {
      app.offerRootAnswer((request) => ({ data: { status: 'ok' }, exe_id: request.id }));
    }
    await app.register(productRoutes, { prefix: config.product_prefix, service });
    if (config.seed && (await service.seedOnFirstStart()))
      app.log.info('market: seeded the ten starter products');

    every(app, {
      name: 'market: purge of expired idempotency keys',
      intervalMs: 3600_000,
      run: () => service.purgeExpiredKeys(),
      level: 'warn',
    });
    app.addHook('onClose', async () => {
      service.close();
    });
  },
};
