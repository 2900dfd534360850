/**
 * Product rows kept in memory for the read routes (`GET /market/query/:id`, `GET /product/:id`).
 *
 * A row is served from memory for at most `ttlMs`. It is dropped at once when this node changes
 * the product (the service calls `invalidate` after each commit) and when any node announces a
 * change on the bus (`product.<id>`: price, description, stock, deletion) — with the Redis bus,
 * that is every node. The time bound covers writers that announce nothing (`agora market setup`
 * in another process, or several processes on the in-process bus). Purchases never read from
 * here: the stock they take is decided by the database.
 */
import type { Bus, Subscription } from '../../core/bus/index.js';
import type { ProductRow } from './market.repository.js';

export interface ProductCacheOptions {
  /** 0: every read goes to the database. */
  ttlMs: number;
  read: (id: number) => Promise<ProductRow | undefined>;
  bus: Bus;
  topic: (id: number) => string;
  maxEntries?: number;
  /** Milliseconds, only ever compared (tests inject their own). */
  now?: () => number;
  /** How `peekJson` writes a row; made once per stored row. */
  serialize?: (row: ProductRow) => string;
}

export interface ProductCache {
  get(id: number): Promise<ProductRow | undefined>;
  /**
   * The row serialized (see `serialize`) when memory may answer for it now, else undefined. No
   * promise and no per-request serialization: this is the hot read.
   */
  peekJson(id: number): string | undefined;
  /** This node changed the product: the next read goes to the database. */
  invalidate(id: number): void;
  /** Every product may have changed (setup, seeding). */
  invalidateAll(): void;
  close(): void;
}

interface Entry {
  row: ProductRow;
  /** The row serialized, made on first use. */
  json: string | undefined;
  /** Served from memory until then; 0 once invalidated. */
  until: number;
  /** Kept while the entry lives, so that a busy product does not subscribe again on every change. */
  subscription: Subscription;
}

export function createProductCache(options: ProductCacheOptions): ProductCache {
  const { ttlMs, read, bus, topic } = options;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? (() => performance.now());
  const entries = new Map<number, Entry>();
  // Bumped by every invalidation: a read that started before one must not store what it found.
  let changes = 0;

  const invalidate = (id: number): void => {
    changes++;
    const entry = entries.get(id);
    if (entry) entry.until = 0;
  };

  const store = (id: number, row: ProductRow, until: number): void => {
    const entry = entries.get(id);
    if (entry) {
      entry.row = row;
      entry.json = undefined;
      entry.until = until;
      return;
    }
    if (entries.size >= maxEntries) {
      const oldest = entries.entries().next().value;
      if (oldest) {
        oldest[1].subscription.close();
        entries.delete(oldest[0]);
      }
    }
    // A gap (changes that may have gone unannounced here) invalidates the row just the same.
    const drop = (): void => {
      invalidate(id);
    };
    const subscription = bus.subscribe(topic(id), drop, drop);
    entries.set(id, { row, json: undefined, until, subscription });
  };

  const serialize = options.serialize ?? ((row: ProductRow) => JSON.stringify(row));

  return {
    peekJson(id) {
      const entry = entries.get(id);
      if (!entry || entry.until <= now()) return undefined;
      entry.json ??= serialize(entry.row);
      return entry.json;
    },
    async get(id) {
      if (ttlMs <= 0) return read(id);
      const entry = entries.get(id);
      const started = now();
      if (entry && entry.until > started) return entry.row;
      const seen = changes;
      const row = await read(id);
      if (row && changes === seen) store(id, row, started + ttlMs);
      return row;
    },
    invalidate,
    invalidateAll() {
      changes++;
      for (const entry of entries.values()) entry.until = 0;
    },
    close() {
      changes++;
      for (const entry of entries.values()) entry.subscription.close();
      entries.clear();
    },
  };
}
