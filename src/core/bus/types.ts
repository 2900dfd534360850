/**
 * The publish/subscribe contract every bus implements (in-process now, Redis for several nodes).
 * Modules only ever see this interface.
 */

/** One published event. `offset` grows by one per event within its topic, starting at 1. */
export interface BusEvent<T = unknown> {
  topic: string;
  offset: number;
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

export interface HistoryPage {
  /** Retained events with an offset above the one asked for, oldest first. */
  events: BusEvent[];
  /** False when events after the requested offset were already dropped from the bounded history. */
  complete: boolean;
  /** The topic's latest offset (0: nothing published yet). */
  latest: number;
}

export interface Bus {
  readonly kind: string;
  /** Publishes one event; resolves with its offset once every node can see it. */
  publish<T>(topic: string, type: string, data: T): Promise<BusEvent<T>>;
  /**
   * Publishes the event of a change that is already committed, without making anyone wait: the
   * events of one node keep their order, and a publish that fails is logged and reaches this
   * node's subscribers of the topic as a gap. A committed change is never failed, nor delayed, by
   * the bus.
   */
  announce(topic: string, type: string, data: unknown): void;
  /**
   * Calls `listener` for every event of `topic` published from now on, in offset order, and
   * `onGap` when some may have been missed.
   */
  subscribe(topic: string, listener: Listener, onGap?: GapListener): Subscription;
  /** The topic's latest offset (0: nothing published yet). */
  latest(topic: string): Promise<number>;
  /** What the bounded history holds after `after` (the last offset a client has seen). */
  history(topic: string, after: number): Promise<HistoryPage>;
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
