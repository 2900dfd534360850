/**
 * The queue module: a fair FIFO token line with stored deadlines, bans for cheaters, a live
 * board over SSE and kitty pictures from the images module's album.
 */
import type { AgoraModule } from '../../core/module.js';
import { isUniqueViolation } from '../../core/db/portable.js';
import { queueMigrations } from './migrations/index.js';
import { drawKitties } from './queue.kitties.js';
import { queueRoutes } from './queue.routes.js';
import { QueueService } from './queue.service.js';

export { QueueService, QUEUE_TOPIC, type Board, type QueueEvent } from './queue.service.js';

const DEMO_MARKER = 'queue.demo_pictures';

export const queueModule: AgoraModule = {
  name: 'queue',
  title: 'Queue',
  description:
    'A fair FIFO token line: take a token, claim a kitty picture on your turn; live board for every browser.',
  defaultPrefix: '/queue',
  page: '/',
  migrations: queueMigrations,
  async plugin(app, { mount }) {
    const config = app.config.queue;
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
      db: app.db,
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
