/** The queue's server part: demo pictures, the service, its sweep and its routes. */
import type { ModuleRuntime } from '../../core/module.js';
import { claimMarker } from '../../core/db/markers.js';
import { every } from '../../core/jobs.js';
import { queueMigrations } from './migrations/index.js';
import { drawKitties } from './queue.kitties.js';
import { queueCompatRoutes } from './queue.compat.routes.js';
import { queueRoutes } from './queue.routes.js';
import type { QueueConfig } from './queue.config.js';
import { createQueueService } from './queue.service.js';
import type { QueueTables } from './queue.tables.js';
import type { TablesOf } from '../../core/db/tables.js';

const DEMO_MARKER = 'queue.demo_pictures';

export const queueRuntime: ModuleRuntime<QueueConfig> = {
  migrations: queueMigrations,
  async plugin(app, { routePrefix: prefix, config }) {
    const log = app.log.child({ module: 'queue' });
    const images = app.hasDecorator('images') ? app.images : null;
    if (!images)
      log.warn('queue: the images module is not running: claims cannot be served pictures');

    if (images && config.demo_pictures && (await images.random(config.album)) === null) {
      // One node draws the demo cats: the marker row is inserted first, and only once.
      if (await claimMarker(app.db, DEMO_MARKER, new Date().toISOString())) {
        for (const cat of await drawKitties()) {
          await images.store(cat.png, { filename: cat.name, album: config.album });
        }
        log.info({ album: config.album }, 'queue: drew the demo pictures');
      }
    }

    const service = createQueueService({
      db: app.db.withTables<TablesOf<QueueTables>>(),
      bus: app.bus,
      timing: {
        claimWindowMs: config.claim_window_s * 1000,
        viewWindowMs: config.view_window_s * 1000,
        banMs: config.ban_s * 1000,
      },
      picture: async () => (images ? ((await images.random(config.album))?.url ?? null) : null),
      lowestFreeCode: config.compat,
    });
    every(app, { name: 'queue: sweep', intervalMs: config.sweep_ms, run: () => service.sweep() });
    await app.register(queueRoutes, { prefix, service, compat: config.compat });
    await app.register(queueCompatRoutes, { prefix, service });
  },
};
