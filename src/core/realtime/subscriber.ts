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

/** Where a client resumes: its last offsets, and the epoch they belong to when it knows it. */
export interface Resume {
  from: Cursor;
  epoch?: string;
}

export interface TopicSubscriberOptions {
  bus: Bus;
  deliver: (event: BusEvent) => void;
  onGap: (topic: string, info: { after: number; latest: number }) => void;
}

interface TopicEntry {
  last: number;
  /** The epoch of `last`; null while the position is unknown (after a gap on this node). */
  epoch: string | null;
  buffer: BusEvent[] | null;
  subscription: Subscription;
}

export interface TopicSubscriber {
  /**
   * Subscribes to `topics`; those with an offset in `from` are replayed after it (`epoch`: the
   * numbering those offsets belong to). Resolves with the cursor of the added topics once replay
   * is done.
   */
  add(topics: readonly string[], from?: Cursor, epoch?: string): Promise<Cursor>;
  remove(topics: readonly string[]): void;
  has(topic: string): boolean;
  readonly size: number;
  /** Last offset delivered (or current at subscription) for every subscribed topic. */
  cursor(): Cursor;
  /** The epoch of the cursor's offsets (undefined until known). */
  readonly epoch: string | undefined;
  close(): void;
}

/**
 * Every event reaches the client in order, exactly once, or after a `gap`: when the bus numbers
 * afresh (a new epoch), when an offset was skipped (a publish that failed somewhere), when the
 * history does not reach back to the client's offset, and when this node may have missed events
 * (the bus says so). After a gap the client reloads its state; what follows is delivered.
 */
export function createTopicSubscriber(options: TopicSubscriberOptions): TopicSubscriber {
  const entries = new Map<string, TopicEntry>();
  let closed = false;

  function emit(entry: TopicEntry, event: BusEvent): void {
    if (entry.epoch !== null) {
      if (entry.epoch === event.epoch && event.offset <= entry.last) return; // seen already
      if (entry.epoch !== event.epoch || event.offset > entry.last + 1) {
        options.onGap(event.topic, { after: entry.last, latest: event.offset });
      }
    }
    entry.epoch = event.epoch;
    entry.last = event.offset;
    options.deliver(event);
  }

  async function addOne(
    topic: string,
    from: number | undefined,
    fromEpoch: string | undefined,
  ): Promise<number> {
    const existing = entries.get(topic);
    if (existing) return existing.last;
    const entry: TopicEntry = {
      last: 0,
      epoch: null,
      buffer: [],
      subscription: options.bus.subscribe(
        topic,
        (event) => {
          if (entry.buffer) entry.buffer.push(event);
          else emit(entry, event);
        },
        () => {
          // Events may have been lost on their way here: the client reloads its state, and
          // whatever comes next is taken as it comes.
          options.onGap(topic, { after: entry.last, latest: entry.last });
          entry.epoch = null;
        },
      ),
    };
    entries.set(topic, entry);
    try {
      if (from === undefined) {
        const position = await options.bus.latest(topic);
        entry.last = position.offset;
        entry.epoch = position.epoch;
      } else {
        const page = await options.bus.history(topic, from, fromEpoch);
        if (closed || entries.get(topic) !== entry) return entry.last;
        if (page.complete) {
          entry.epoch = page.epoch;
          entry.last = from;
          for (const event of page.events) emit(entry, event);
        } else {
          // What is left, after one gap: the client reloads, then takes what the history has.
          options.onGap(topic, { after: from, latest: page.latest });
          const resumable = page.epoch === (fromEpoch ?? page.epoch) && from <= page.latest;
          entry.epoch = page.epoch;
          entry.last = resumable ? from : 0;
          for (const event of page.events) {
            if (event.offset <= entry.last) continue;
            entry.last = event.offset;
            options.deliver(event);
          }
        }
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
    async add(topics, from = {}, epoch) {
      const added: Cursor = {};
      // Topics are independent; replay them one after another so each stays in order.
      for (const topic of topics) added[topic] = await addOne(topic, from[topic], epoch);
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
    get epoch() {
      for (const entry of entries.values()) if (entry.epoch !== null) return entry.epoch;
      return undefined;
    },
    close() {
      closed = true;
      for (const entry of entries.values()) entry.subscription.close();
      entries.clear();
    },
  };
}

/** The key of the epoch in a cursor's text: not a topic name (topics never hold `@`). */
const EPOCH_KEY = '@';

/** `@=K3x9&product.3=12&products.new=4` — the SSE `id:` form of a cursor and its epoch. */
export function formatCursor(cursor: Cursor, epoch?: string): string {
  const offsets = Object.entries(cursor).map(([topic, offset]) => `${topic}=${offset}`);
  return (epoch === undefined ? offsets : [`${EPOCH_KEY}=${epoch}`, ...offsets]).join('&');
}

/** Parses `formatCursor`'s output; anything malformed is ignored (live from now on). */
export function parseResume(
  text: string | undefined,
  isValidTopic: (t: string) => boolean,
): Resume {
  const from: Cursor = {};
  let epoch: string | undefined;
  if (!text) return { from };
  for (const part of text.split('&')) {
    const eq = part.lastIndexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq);
    const value = part.slice(eq + 1);
    if (key === EPOCH_KEY) {
      if (/^[A-Za-z0-9_-]{1,64}$/.test(value)) epoch = value;
      continue;
    }
    const offset = Number(value);
    if (isValidTopic(key) && Number.isSafeInteger(offset) && offset >= 0) from[key] = offset;
  }
  return epoch === undefined ? { from } : { from, epoch };
}

/** The offsets of a cursor's text (see `parseResume`). */
export function parseCursor(
  text: string | undefined,
  isValidTopic: (t: string) => boolean,
): Cursor {
  return parseResume(text, isValidTopic).from;
}
