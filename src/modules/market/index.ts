/**
 * The market module: products, stock, purchases that never oversell, live notifications. Its
 * command, `agora market setup`, is in market.cli.ts.
 */
import type { ErrorEnvelope } from '../../core/errors.js';
import type { AgoraModule } from '../../core/module.js';
import { marketMigrations } from './migrations/index.js';
import { marketRoutes, productRoutes } from './market.routes.js';
import { createMarketService } from './market.service.js';

export { createMarketService, type MarketService } from './market.service.js';
export { SEED_PRODUCTS } from './market.seed.js';

/** `{error, exe_id}` on every market and product URL, unknown ones included. */
export const marketEnvelope: ErrorEnvelope = (e) => ({ error: e.message, exe_id: e.requestId });

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
