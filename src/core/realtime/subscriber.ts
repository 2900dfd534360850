/**
 * A connection's set of topic subscriptions with a cursor (last offset delivered per topic),
 * shared by the WebSocket and SSE gateways.
 *
 * Subscribing with a known offset replays what the bus history holds after it, then switches to
 * live events without a gap or a duplicate: live events are buffered while the history is read.
 * When the history no longer reaches back that far, `onGap` tells the client to reload its state.
 */
import type { Bus, BusEvent, Subscription } from '../bus/types.js';

export type Cursor = Record<string, number>;

export interface TopicSubscriberOptions {
  bus: Bus;
  deliver: (event: BusEvent) => void;
  onGap: (topic: string, info: { after: number; latest: number }) => void;
}

interface TopicEntry {
  last: number;
  buffer: BusEvent[] | null;
  subscription: Subscription;
}

export interface TopicSubscriber {
  /**
   * Subscribes to `topics`; those with an offset in `from` are replayed after it.
   * Resolves with the cursor of the added topics once replay is done.
   */
  add(topics: readonly string[], from?: Cursor): Promise<Cursor>;
  remove(topics: readonly string[]): void;
  has(topic: string): boolean;
  readonly size: number;
  /** Last offset delivered (or current at subscription) for every subscribed topic. */
  cursor(): Cursor;
  close(): void;
}

export function createTopicSubscriber(options: TopicSubscriberOptions): TopicSubscriber {
  const entries = new Map<string, TopicEntry>();
  let closed = false;

  function emit(entry: TopicEntry, event: BusEvent): void {
    if (event.offset <= entry.last) return;
    entry.last = event.offset;
    options.deliver(event);
  }

  async function addOne(topic: string, from: number | undefined): Promise<number> {
    const existing = entries.get(topic);
    if (existing) return existing.last;
    const entry: TopicEntry = {
      last: 0,
      buffer: [],
      subscription: options.bus.subscribe(
        topic,
        (event) => {
          if (entry.buffer) entry.buffer.push(event);
          else emit(entry, event);
        },
        () => {
          // Events may have been lost on their way here: the client reloads its state, and
          // whatever comes next is delivered, even if the bus numbers afresh (it restarted).
          options.onGap(topic, { after: entry.last, latest: entry.last });
          entry.last = 0;
        },
      ),
    };
    entries.set(topic, entry);
    try {
      if (from === undefined) {
        entry.last = await options.bus.latest(topic);
      } else {
        const page = await options.bus.history(topic, from);
        // A client ahead of the bus saw a previous epoch (the bus restarted): replay all retained.
        entry.last = from > page.latest ? 0 : from;
        if (!page.complete) options.onGap(topic, { after: from, latest: page.latest });
        if (closed || entries.get(topic) !== entry) return entry.last;
        for (const event of page.events) emit(entry, event);
      }
      if (closed || entries.get(topic) !== entry) return entry.last;
      const buffered = entry.buffer ?? [];
      entry.buffer = null;
      for (const event of buffered) emit(entry, event);
      return entry.last;
    } catch (err) {
      entry.subscription.close();
      entries.delete(topic);
      throw err;
    }
  }

  return {
    async add(topics, from = {}) {
      const added: Cursor = {};
      // Topics are independent; replay them one after another so each stays in order.
      for (const topic of topics) added[topic] = await addOne(topic, from[topic]);
      return added;
    },
    remove(topics) {
      for (const topic of topics) {
        entries.get(topic)?.subscription.close();
        entries.delete(topic);
      }
    },
    has: (topic) => entries.has(topic),
    get size() {
      return entries.size;
    },
    cursor() {
      const out: Cursor = {};
      for (const [topic, entry] of entries) out[topic] = entry.last;
      return out;
    },
    close() {
      closed = true;
      for (const entry of entries.values()) entry.subscription.close();
      entries.clear();
    },
  };
}

/** `product.3=12&products.new=4` — the SSE `id:` form of a cursor. */
export function formatCursor(cursor: Cursor): string {
  return Object.entries(cursor)
    .map(([topic, offset]) => `${topic}=${offset}`)
    .join('&');
}

/** Parses `formatCursor`'s output; anything malformed is ignored (live from now on). */
export function parseCursor(
  text: string | undefined,
  isValidTopic: (t: string) => boolean,
): Cursor {
  const cursor: Cursor = {};
  if (!text) return cursor;
  for (const part of text.split('&')) {
    const eq = part.lastIndexOf('=');
    if (eq <= 0) continue;
    const topic = part.slice(0, eq);
    const offset = Number(part.slice(eq + 1));
    if (isValidTopic(topic) && Number.isSafeInteger(offset) && offset >= 0) cursor[topic] = offset;
  }
  return cursor;
}
