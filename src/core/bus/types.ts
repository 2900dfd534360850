/**
 * The publish/subscribe contract every bus implements (in-process now, Redis for several nodes).
 * Modules only ever see this interface.
 */

/**
 * One published event. `offset` grows by one per event within its topic, starting at 1, within
 * an `epoch`: the lifetime of the bus's numbering. A bus that lost its numbering (an in-process
 * bus after a restart, a Redis restarted without persistence) starts a new epoch, so that an
 * offset from before is never taken for one from after.
 */
export interface BusEvent<T = unknown> {
  topic: string;
  offset: number;
  epoch: string;
  type: string;
  data: T;
  /** ISO-8601 publication time. */
  at: string;
}

export type Listener = (event: BusEvent) => void;

/**
 * Told that events of `topic` may have been missed on this node (a publish that failed, a lost
 * connection to the other nodes): whoever shows state built from the topic reloads it.
 */
export type GapListener = (topic: string) => void;

export interface Subscription {
  close(): void;
}

/** Where a topic stands: its epoch and latest offset (0: nothing published in this epoch). */
export interface Position {
  epoch: string;
  offset: number;
}

export interface HistoryPage {
  /** Retained events with an offset above the one asked for, oldest first. */
  events: BusEvent[];
  /**
   * False when events after the requested offset are not all here: dropped from the bounded
   * history, never published (a failed publish leaves its offset unused), or of another epoch.
   */
  complete: boolean;
  /** The topic's latest offset (0: nothing published yet). */
  latest: number;
  /** The epoch of `latest` and of the events. */
  epoch: string;
}

export interface Bus {
  readonly kind: string;
  /** Publishes one event; resolves with its offset once every node can see it. */
  publish<T>(topic: string, type: string, data: T): Promise<BusEvent<T>>;
  /**
   * Publishes the event of a change that is already committed, and resolves (never rejects) once
   * it is published or, when it cannot be, once the loss is logged, this node's subscribers of
   * the topic have a gap, and every other node's will see one before any event published after
   * this resolves (the Redis bus uses the event's offset up). Answer the change after it: a
   * client acting on the answer (a change made through another node) must never hear of that
   * later change without this one or a gap first. The events of one node keep their order. A
   * committed change is never failed by the bus; a failure delays it, boundedly (see the bus).
   */
  announce(topic: string, type: string, data: unknown): Promise<void>;
  /**
   * Calls `listener` for every event of `topic` published from now on, in offset order, and
   * `onGap` when some may have been missed.
   */
  subscribe(topic: string, listener: Listener, onGap?: GapListener): Subscription;
  /** The topic's epoch and latest offset. */
  latest(topic: string): Promise<Position>;
  /**
   * What the bounded history holds after `after` (the last offset a client has seen, in
   * `epoch` when the client knows it; another epoch makes the page incomplete).
   */
  history(topic: string, after: number, epoch?: string): Promise<HistoryPage>;
  /** Resolves when the bus is usable (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Topic names: dotted words, short enough to log and to carry in a cursor. */
export const TOPIC_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
export const TOPIC_MAX_LENGTH = 100;

export function isValidTopic(topic: string): boolean {
  return topic.length <= TOPIC_MAX_LENGTH && TOPIC_PATTERN.test(topic);
}

/**
 * The history page of `retained` events (oldest first, all of `epoch`) for a client that saw
 * `after` in `seenEpoch`: complete only when every offset from `after + 1` to `latest` is there.
 * Shared by every bus, so that they judge gaps alike.
 */
export function historyPage(
  retained: readonly BusEvent[],
  latest: number,
  epoch: string,
  after: number,
  seenEpoch: string | undefined,
): HistoryPage {
  if ((seenEpoch !== undefined && seenEpoch !== epoch) || after > latest) {
    // Offsets of another numbering (the bus restarted): replay everything retained, flag it.
    return { events: [...retained], complete: false, latest, epoch };
  }
  const events = retained.filter((e) => e.offset > after);
  const complete =
    events.length === latest - after && events.every((e, i) => e.offset === after + 1 + i);
  return { events, complete, latest, epoch };
}
