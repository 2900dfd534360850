/**
 * `Bus.announce` for every bus: publish in call order (the memory bus delivers at once; ioredis
 * sends one connection's commands in order), and on failure a log line, a gap for this node's
 * subscribers of the topic and what the bus does to make the loss seen elsewhere (`onFailure`).
 * `settled()` lets `close()` wait for what is under way.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { LocalListeners } from './listeners.js';
import type { Bus } from './types.js';

export interface Announcer {
  announce: Bus['announce'];
  /** Resolves when every announcement made so far has been published or given up. */
  settled(): Promise<void>;
}

export function createAnnouncer(
  publish: Bus['publish'],
  listeners: LocalListeners,
  logger: FastifyBaseLogger,
  /**
   * Told of each topic whose event could not be published; the announcement resolves when what
   * it returns does (the Redis bus marks the hole for the other nodes). Must not reject.
   */
  onFailure?: (topic: string) => Promise<void>,
): Announcer {
  const pending = new Set<Promise<void>>();
  return {
    announce(topic, type, data) {
      const done: Promise<void> = publish(topic, type, data).then(
        () => undefined,
        async (err: unknown) => {
          logger.warn(
            { topic, event: type, err: err instanceof Error ? err.message : String(err) },
            'bus: an event of a committed change could not be published; subscribers get a gap',
          );
          listeners.gap(topic);
          await onFailure?.(topic);
        },
      );
      pending.add(done);
      void done.finally(() => pending.delete(done));
      return done;
    },
    async settled() {
      await Promise.allSettled([...pending]);
    },
  };
}
