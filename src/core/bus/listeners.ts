/**
 * This node's listeners, by topic, shared by every bus: each listener gets the topic's events in
 * order and, when events of the topic may have been missed here (a publish that failed, a lost
 * connection to the other nodes), a gap notice telling it to reload what it shows.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { BusEvent, GapListener, Listener, Subscription } from './types.js';

interface Entry {
  event: Listener;
  gap: GapListener | undefined;
}

export class LocalListeners {
  readonly #topics = new Map<string, Set<Entry>>();

  constructor(private readonly logger: FastifyBaseLogger) {}

  add(topic: string, listener: Listener, onGap?: GapListener): Subscription {
    let set = this.#topics.get(topic);
    if (!set) {
      set = new Set();
      this.#topics.set(topic, set);
    }
    const entry: Entry = { event: listener, gap: onGap };
    set.add(entry);
    const topics = this.#topics;
    return {
      close() {
        set.delete(entry);
        if (set.size === 0 && topics.get(topic) === set) topics.delete(topic);
      },
    };
  }

  deliver(event: BusEvent): void {
    const set = this.#topics.get(event.topic);
    if (!set) return;
    for (const entry of set) {
      try {
        entry.event(event);
      } catch (err) {
        this.logger.error({ err, topic: event.topic }, 'bus listener failed');
      }
    }
  }

  /** Tells the listeners of `topic` that they may have missed events. */
  gap(topic: string): void {
    for (const entry of this.#topics.get(topic) ?? []) {
      try {
        entry.gap?.(topic);
      } catch (err) {
        this.logger.error({ err, topic }, 'bus gap listener failed');
      }
    }
  }

  /** Every topic may have lost events (the connection to the other nodes dropped). */
  gapAll(): void {
    for (const topic of [...this.#topics.keys()]) this.gap(topic);
  }

  clear(): void {
    this.#topics.clear();
  }
}
