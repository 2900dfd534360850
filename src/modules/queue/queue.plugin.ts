/** The queue's server part: demo pictures, the service, its sweep and its routes. */
import type { ModuleRuntime } from '../../core/module.js';
import { isUniqueViolation } from '../../core/db/portable.js';
import { queueMigrations } from './migrations/index.js';
import { drawKitties } from './queue.kitties.js';
import { queueRoutes } from './queue.routes.js';
import type { QueueConfig } from './queue.config.js';
import { QueueService } from './queue.service.js';
import type { QueueTables } from './queue.tables.js';
import type { TablesOf } from '../../core/db/tables.js';

const DEMO_MARKER = 'queue.demo_pictures';

export const queueRuntime: ModuleRuntime<QueueConfig> = {
  migrations: queueMigrations,
  async plugin(app, { mount, config }) {
    const log = app.log.child({ module: 'queue' });
    const images = app.hasDecorator('images') ? app.images : null;
    if (!images)
      log.warn('queue: the images module is not running: claims cannot be served pictures');

    if (images && config.demo_pictures && (await images.random(config.album)) === null) {
      // One node draws the demo cats: the marker row is inserted first, and only once.
      const now = new Date().toISOString();
      try {
        await app.db
          .insertInto('agora_meta')
          .values({ key: DEMO_MARKER, value: now, updated_at: now })
          .execute();
        for (const cat of await drawKitties()) {
          await images.store(cat.png, { filename: cat.name, album: config.album });
        }
        log.info({ album: config.album }, 'queue: drew the demo pictures');
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
    }

    const service = new QueueService({
      db: app.db.withTables<TablesOf<QueueTables>>(),
      bus: app.bus,
      timing: {
        claimWindowMs: config.claim_window_s * 1000,
        viewWindowMs: config.view_window_s * 1000,
        banMs: config.ban_s * 1000,
      },
      picture: async () => (images ? ((await images.random(config.album))?.url ?? null) : null),
    });
    const sweep = setInterval(() => {
      service.sweep().catch((err: unknown) => {
        log.error({ err }, 'queue: sweep failed');
      });
    }, config.sweep_ms);
    sweep.unref();
    app.addHook('onClose', async () => {
      clearInterval(sweep);
    });
    await app.register(queueRoutes, { prefix: mount === '/' ? '' : mount, service });
  },
};
