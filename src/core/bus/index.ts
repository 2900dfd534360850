/**
 * The bus plugin: `app.bus`, closed with the app. In-process by default (relayed by the primary
 * between the workers of `--workers N`); with `redis_url`, the bus every node shares through Redis.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { isClusterWorker } from '../cluster/ipc.js';
import { createClusterBus } from './cluster.js';
import { createMemoryBus } from './memory.js';
import { createRedisBus } from './redis.js';
import type { Bus } from './types.js';

export type { Bus, BusEvent, GapListener, Listener, Subscription, HistoryPage } from './types.js';
export { isValidTopic } from './types.js';

declare module 'fastify' {
  interface FastifyInstance {
    bus: Bus;
  }
}

export interface BusPluginOptions {
  /** A bus built by the caller (tests, or a shared bus); otherwise one is created from config. */
  bus?: Bus;
}

async function busPlugin(app: FastifyInstance, options: BusPluginOptions): Promise<void> {
  const { realtime, redis_url: url, redis_prefix: prefix } = app.config;
  const bus =
    options.bus ??
    (url
      ? await createRedisBus({
          url,
          prefix,
          history: realtime.history,
          logger: app.log,
          connectTimeoutMs: app.config.redis_connect_timeout_ms,
          commandTimeoutMs: app.config.redis_command_timeout_ms,
        })
      : isClusterWorker()
        ? createClusterBus({ logger: app.log })
        : createMemoryBus({ history: realtime.history, logger: app.log }));
  app.decorate('bus', bus);
  app.addHook('onClose', async () => {
    // A bus handed in by the caller is the caller's to close.
    if (!options.bus) await bus.close();
  });
}

export default fp(busPlugin, {
  name: 'agora-bus',
  fastify: '5.x',
  decorators: { fastify: ['config'] },
});
