/**
 * The embedded bus: everything in this process. Each topic keeps its last offset and a bounded
 * ring of recent events for resuming clients; listeners are this process's.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { createAnnouncer } from './announce.js';
import { LocalListeners } from './listeners.js';
import { historyPage, type Bus, type BusEvent } from './types.js';

interface TopicState {
  offset: number;
  history: BusEvent[];
}

export interface MemoryBusOptions {
  /** Events kept per topic. */
  history: number;
  logger: FastifyBaseLogger;
  now?: () => Date;
}

export function createMemoryBus(options: MemoryBusOptions): Bus {
  const topics = new Map<string, TopicState>();
  const listeners = new LocalListeners(options.logger);
  const now = options.now ?? (() => new Date());
  // This process's numbering: a client that saw offsets of an earlier run is told of the gap.
  const epoch = randomBytes(6).toString('base64url');
  let closed = false;

  function state(topic: string): TopicState {
    let s = topics.get(topic);
    if (!s) {
      s = { offset: 0, history: [] };
      topics.set(topic, s);
    }
    return s;
  }

  function publish<T>(topic: string, type: string, data: T): Promise<BusEvent<T>> {
    if (closed) return Promise.reject(new Error('bus is closed'));
    const s = state(topic);
    s.offset += 1;
    const event: BusEvent<T> = {
      topic,
      offset: s.offset,
      epoch,
      type,
      data,
      at: now().toISOString(),
    };
    if (options.history > 0) {
      s.history.push(event);
      // Amortised trim: drop a chunk at once instead of shifting on every publish.
      if (s.history.length > options.history * 1.25 + 16) {
        s.history.splice(0, s.history.length - options.history);
      }
    }
    listeners.deliver(event);
    return Promise.resolve(event);
  }
  const announcer = createAnnouncer(publish, listeners, options.logger);

  return {
    kind: 'memory',
    publish,
    announce: announcer.announce,

    subscribe: (topic, listener, onGap) => listeners.add(topic, listener, onGap),

    latest(topic: string) {
      return Promise.resolve({ epoch, offset: topics.get(topic)?.offset ?? 0 });
    },

    history(topic: string, after: number, seenEpoch?: string) {
      const s = topics.get(topic);
      const retained = s && options.history > 0 ? s.history.slice(-options.history) : [];
      return Promise.resolve(historyPage(retained, s?.offset ?? 0, epoch, after, seenEpoch));
    },

    ping() {
      return closed ? Promise.reject(new Error('bus is closed')) : Promise.resolve();
    },

    async close() {
      await announcer.settled();
      closed = true;
      listeners.clear();
    },
  };
}
