/**
 * The embedded bus: everything in this process. Each topic keeps its last offset, a bounded
 * ring of recent events for resuming clients, and its listeners.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Bus, BusEvent, HistoryPage, Listener, Subscription } from './types.js';

interface TopicState {
  offset: number;
  history: BusEvent[];
  listeners: Set<Listener>;
}

export interface MemoryBusOptions {
  /** Events kept per topic. */
  history: number;
  logger: FastifyBaseLogger;
  now?: () => Date;
}

export function createMemoryBus(options: MemoryBusOptions): Bus {
  const topics = new Map<string, TopicState>();
  const now = options.now ?? (() => new Date());
  let closed = false;

  function state(topic: string): TopicState {
    let s = topics.get(topic);
    if (!s) {
      s = { offset: 0, history: [], listeners: new Set() };
      topics.set(topic, s);
    }
    return s;
  }

  return {
    kind: 'memory',
    publish<T>(topic: string, type: string, data: T): Promise<BusEvent<T>> {
      if (closed) return Promise.reject(new Error('bus is closed'));
      const s = state(topic);
      s.offset += 1;
      const event: BusEvent<T> = { topic, offset: s.offset, type, data, at: now().toISOString() };
      if (options.history > 0) {
        s.history.push(event);
        // Amortised trim: drop a chunk at once instead of shifting on every publish.
        if (s.history.length > options.history * 1.25 + 16) {
          s.history.splice(0, s.history.length - options.history);
        }
      }
      for (const listener of s.listeners) {
        try {
          listener(event);
        } catch (err) {
          options.logger.error({ err, topic }, 'bus listener failed');
        }
      }
      return Promise.resolve(event);
    },

    subscribe(topic: string, listener: Listener): Subscription {
      const s = state(topic);
      s.listeners.add(listener);
      return {
        close() {
          s.listeners.delete(listener);
        },
      };
    },

    latest(topic: string): Promise<number> {
      return Promise.resolve(topics.get(topic)?.offset ?? 0);
    },

    history(topic: string, after: number): Promise<HistoryPage> {
      const s = topics.get(topic);
      const latest = s?.offset ?? 0;
      const retained = s && options.history > 0 ? s.history.slice(-options.history) : [];
      if (after > latest) {
        // The client saw offsets this bus never issued (it restarted): replay all we have, flag it.
        return Promise.resolve({ events: retained, complete: false, latest });
      }
      const oldest = retained[0]?.offset ?? latest + 1;
      return Promise.resolve({
        events: retained.filter((e) => e.offset > after),
        // Complete when nothing between `after` and the oldest retained event was dropped.
        complete: oldest <= after + 1,
        latest,
      });
    },

    ping() {
      return closed ? Promise.reject(new Error('bus is closed')) : Promise.resolve();
    },

    close() {
      closed = true;
      for (const s of topics.values()) s.listeners.clear();
      return Promise.resolve();
    },
  };
}
