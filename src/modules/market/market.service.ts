/**
 * The market's business rules: products, purchases that never oversell, replenishment, seeding,
 * and the notifications that follow each committed change. No HTTP here.
 */
import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Bus } from '../../core/bus/index.js';
import type { DatabaseHandle } from '../../core/db/index.js';
import type { MarketDatabase } from './market.tables.js';
import { dialectOf, isUniqueViolation } from '../../core/db/portable.js';
import { createProductCache } from './market.cache.js';
import * as repo from './market.repository.js';
import {
  BUY_FAILURE,
  CATALOGUE_TOPIC,
  BUY_SUCCESS,
  MAX_STOCK,
  NEW_PRODUCTS_TOPIC,
  productTopic,
  type BuyResult,
  type MarketEvent,
  type Product,
  type ProductInput,
  type ProductStock,
  type ReplenishResult,
} from './market.schemas.js';
import { SEED_PRODUCTS, type SetupOptions, type SetupReport } from './market.seed.js';
import { groupCommit } from '../../core/batch.js';
import { insertMarker } from '../../core/db/markers.js';

export interface MarketServiceDeps {
  db: Kysely<MarketDatabase>;
  /** The database handle's `prepareRead`, for the hot reads. */
  prepareRead: DatabaseHandle['prepareRead'];
  bus: Bus;
  clock?: () => Date;
  /** 0 ≤ random() < 1, for seed stock. */
  random?: () => number;
  idempotencyTtlMs?: number;
  /** How long a product row may be served from memory (see market.cache.ts); 0: never. */
  readCacheMs?: number;
  /** Monotonic milliseconds for the read cache (tests). */
  cacheClock?: () => number;
  /** A pending Idempotency-Key whose holder is silent this long is taken over. */
  staleKeyMs?: number;
}

const SEEDED_MARKER = 'market.seeded';
/** Most purchases written in one SQLite transaction. */
const BUY_BATCH = 128;

export type BuyOutcome =
  | { kind: 'done'; result: BuyResult }
  | { kind: 'replayed'; result: BuyResult }
  | { kind: 'not-found' }
  /** `expectedPrice` was given and the product costs `price` now: nothing was bought. */
  | { kind: 'price-changed'; price: number }
  | { kind: 'key-mismatch' }
  | { kind: 'key-in-progress' };

export interface BuyRequest {
  productId: number;
  amount: number;
  creditCard: string;
  requestId: string;
  idempotencyKey?: string;
  /** The unit price the buyer saw: the purchase is made at it, or not at all. */
  expectedPrice?: number;
}

export type ReplenishOutcome =
  { kind: 'done'; result: ReplenishResult } | { kind: 'not-found' } | { kind: 'too-much' };

/**
 * What an Idempotency-Key is bound to: product, amount and card. The full card number is never
 * stored, not even hashed (16 digits are cheap to brute-force); its last 4 digits stand for it.
 */
export function purchaseFingerprint(productId: number, amount: number, creditCard: string): string {
  return createHash('sha256')
    .update(JSON.stringify([productId, amount, creditCard.slice(-4)]))
    .digest('hex');
}

const toProduct = (row: repo.ProductRow): Product => ({
  id: row.id,
  description: row.description,
  price: row.price,
});
const toStock = (row: repo.ProductRow): ProductStock => ({
  ...toProduct(row),
  quantity: row.quantity,
});

export type MarketService = ReturnType<typeof createMarketService>;

export function createMarketService(deps: MarketServiceDeps) {
  const { db, bus } = deps;
  const reads = repo.productReads(db, deps.prepareRead);
  const cache = createProductCache({
    ttlMs: deps.readCacheMs ?? 0,
    read: (id) => reads.find(id),
    serialize: (row) => JSON.stringify(toStock(row)),
    bus,
    topic: productTopic,
    ...(deps.cacheClock ? { now: deps.cacheClock } : {}),
  });
  const clock = deps.clock ?? (() => new Date());
  const random = deps.random ?? Math.random;
  const ttlMs = deps.idempotencyTtlMs ?? 24 * 3600_000;
  const staleMs = deps.staleKeyMs ?? 60_000;
  const now = (): string => clock().toISOString();

  /**
   * Announces a committed change (see `Bus.announce`); the change is answered after this
   * resolves. Every change is also announced on the catalogue topic, where a page that lists
   * every product follows them all with one subscription.
   */
  async function publish(topic: string, event: MarketEvent): Promise<void> {
    await Promise.all([
      bus.announce(topic, event.type, event),
      bus.announce(CATALOGUE_TOPIC, event.type, event),
    ]);
  }

  interface Purchase {
    result: BuyResult;
    quantity: number;
  }
  /** Not made: the buyer expected another price (no stock taken, no order row). */
  interface Repriced {
    price: number;
  }

  /** One purchase inside a transaction: conditional decrement, then the order row. */
  async function purchase(
    tx: Transaction<MarketDatabase>,
    request: BuyRequest,
    at: string,
    key: string | undefined,
  ): Promise<Purchase | Repriced | undefined> {
    const last4 = request.creditCard.slice(-4);
    const expected = request.expectedPrice;
    const taken = await repo.takeStock(tx, request.productId, request.amount, at, expected);
    // Read after the update: on PostgreSQL/MySQL the row is locked by now, so the price and
    // quantity are the ones this purchase was made at.
    const row = await repo.findProduct(tx, request.productId);
    if (!row) return undefined;
    if (!taken && expected !== undefined && row.price !== expected) return { price: row.price };
    const result: BuyResult = taken
      ? { cost: request.amount * row.price, status: BUY_SUCCESS }
      : { cost: 0, status: BUY_FAILURE };
    await repo.insertOrder(tx, {
      product_id: row.id,
      amount: request.amount,
      unit_price: row.price,
      cost: result.cost,
      status: taken ? 'Success' : 'Failure',
      card_last4: last4,
      request_id: request.requestId,
      created_at: at,
    });
    if (key !== undefined) await repo.completeKey(tx, key, JSON.stringify(result));
    return { result, quantity: row.quantity };
  }

  /**
   * SQLite has one writer: purchases that arrive together are written in one transaction, in
   * arrival order (group commit), each with its own conditional decrement. (PostgreSQL and MySQL
   * keep one transaction per purchase: their writers run in parallel.)
   */
  const batchBuys = dialectOf(db) === 'sqlite';
  const buyInBatch = groupCommit(
    BUY_BATCH,
    (buys: { request: BuyRequest; at: string }[]): Promise<(Purchase | Repriced | undefined)[]> =>
      db.transaction().execute(async (tx) => {
        const done: (Purchase | Repriced | undefined)[] = [];
        for (const b of buys) done.push(await purchase(tx, b.request, b.at, undefined));
        return done;
      }),
  );

  type KeyClaim =
    | { kind: 'claimed' }
    | { kind: 'replay'; result: BuyResult }
    | { kind: 'mismatch' }
    | { kind: 'in-progress' };

  /** Stripe's model: the first request with a key owns it; the others replay, or are refused. */
  async function claimKey(key: string, hash: string): Promise<KeyClaim> {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await repo.insertPendingKey(db, key, hash, now())) return { kind: 'claimed' };
      const row = await repo.findKey(db, key);
      if (!row) continue; // deleted meanwhile: try again
      if (Date.parse(row.created_at) < clock().getTime() - ttlMs) {
        await repo.deleteKey(db, key);
        continue;
      }
      if (row.request_hash !== hash) return { kind: 'mismatch' };
      if (row.state === 'done' && row.response !== null)
        return { kind: 'replay', result: JSON.parse(row.response) as BuyResult };
      if (
        Date.parse(row.locked_at) < clock().getTime() - staleMs &&
        (await repo.takeOverStaleKey(db, key, row.locked_at, now()))
      ) {
        return { kind: 'claimed' };
      }
      return { kind: 'in-progress' };
    }
    return { kind: 'in-progress' };
  }

  async function setupIn(tx: repo.Executor, options: SetupOptions): Promise<SetupReport> {
    const at = now();
    const amount = options.amount ?? 0;
    const stock = (): number => (amount > 0 ? amount : Math.floor(random() * 11));
    const report: SetupReport = { inserted: [], restocked: [] };
    if (options.reset) {
      await repo.deleteAllProducts(tx);
      for (const [i, seed] of SEED_PRODUCTS.entries()) {
        await repo.insertProduct(tx, { id: i + 1, ...seed, quantity: stock(), now: at });
        report.inserted.push(seed.description);
      }
      await repo.syncIdSequence(tx);
      return report;
    }
    const existing = await repo.listProducts(tx);
    for (const seed of SEED_PRODUCTS) {
      const found = existing.find((p) => p.description === seed.description);
      if (!found) {
        await repo.insertProduct(tx, { ...seed, quantity: stock(), now: at });
        report.inserted.push(seed.description);
      } else if (amount > 0) {
        await repo.setStock(tx, found.id, amount, at);
        report.restocked.push(seed.description);
      }
    }
    return report;
  }

  return {
    /**
     * The stock as the read cache has it now, as JSON text (the `ProductStock` shape, made once
     * per cached row), without a promise; undefined: ask `getStock`.
     */
    peekStockJson(id: number): string | undefined {
      return cache.peekJson(id);
    },

    async getStock(id: number): Promise<ProductStock | undefined> {
      const row = await cache.get(id);
      return row && toStock(row);
    },

    async listStock(): Promise<ProductStock[]> {
      return (await reads.list()).map(toStock);
    },

    /** The orders ledger, newest first, for administrators. */
    listOrders(options: { before?: number; limit: number }): Promise<repo.Order[]> {
      return repo.listOrders(db, options);
    },

    async listProducts(): Promise<Product[]> {
      return (await reads.list()).map(toProduct);
    },

    async getProduct(id: number): Promise<Product | undefined> {
      const row = await cache.get(id);
      return row && toProduct(row);
    },

    /** Creates a product with no stock and announces it on `products.new`. */
    async createProduct(input: ProductInput): Promise<Product> {
      const at = now();
      const id = await repo.insertProduct(db, { ...input, quantity: 0, now: at });
      const product = { id, description: input.description, price: input.price };
      await publish(NEW_PRODUCTS_TOPIC, { type: 'product-released', ...product, at });
      return product;
    },

    /** Replaces description and price; subscribers of `product.<id>` hear what changed. */
    async updateProduct(id: number, input: ProductInput): Promise<Product | undefined> {
      const at = now();
      const before = await db.transaction().execute(async (tx) => {
        const row = await repo.findProductForUpdate(tx, id);
        if (row) await repo.updateProduct(tx, id, { ...input, now: at });
        return row;
      });
      if (!before) return undefined;
      cache.invalidate(id);
      if (before.price !== input.price) {
        await publish(productTopic(id), {
          type: 'price-changed',
          id,
          description: input.description,
          old_price: before.price,
          new_price: input.price,
          at,
        });
      }
      if (before.description !== input.description) {
        await publish(productTopic(id), {
          type: 'description-changed',
          id,
          old_description: before.description,
          description: input.description,
          at,
        });
      }
      return { id, ...input };
    },

    async deleteProduct(id: number): Promise<Product | undefined> {
      const row = await db.transaction().execute(async (tx) => {
        const found = await repo.findProductForUpdate(tx, id);
        if (found) await repo.deleteProduct(tx, id);
        return found;
      });
      if (!row) return undefined;
      cache.invalidate(id);
      await publish(productTopic(id), {
        type: 'product-deleted',
        id,
        description: row.description,
        at: now(),
      });
      return toProduct(row);
    },

    /**
     * Buys `amount` of a product: one transaction holds the conditional stock decrement, the
     * order row (card reduced to its last 4 digits) and, with an Idempotency-Key, its answer.
     * Never sells stock that is not there, whatever the number of processes.
     */
    async buy(request: BuyRequest): Promise<BuyOutcome> {
      const key = request.idempotencyKey;
      if (key !== undefined) {
        const claim = await claimKey(
          key,
          purchaseFingerprint(request.productId, request.amount, request.creditCard),
        );
        if (claim.kind === 'replay') return { kind: 'replayed', result: claim.result };
        if (claim.kind === 'mismatch') return { kind: 'key-mismatch' };
        if (claim.kind === 'in-progress') return { kind: 'key-in-progress' };
      }
      const at = now();
      let outcome: Purchase | Repriced | undefined;
      try {
        outcome =
          key === undefined && batchBuys
            ? await buyInBatch({ request, at })
            : await db.transaction().execute((tx) => purchase(tx, request, at, key));
      } catch (err) {
        if (key !== undefined) await repo.deleteKey(db, key, true).catch(() => undefined);
        throw err;
      }
      if (!outcome || !('result' in outcome)) {
        // Nothing was done: the key is free for the retry (a confirmed price, say).
        if (key !== undefined) await repo.deleteKey(db, key, true);
        return outcome ? { kind: 'price-changed', price: outcome.price } : { kind: 'not-found' };
      }
      if (outcome.result.status === BUY_SUCCESS) {
        cache.invalidate(request.productId);
        await publish(productTopic(request.productId), {
          type: 'stock-changed',
          id: request.productId,
          quantity: outcome.quantity,
          at,
        });
      }
      return { kind: 'done', result: outcome.result };
    },

    /** Adds stock (bounded by MAX_STOCK). */
    async replenish(productId: number, amount: number): Promise<ReplenishOutcome> {
      const at = now();
      const outcome = await db.transaction().execute(async (tx) => {
        const added = await repo.addStock(tx, productId, amount, MAX_STOCK, at);
        const row = await repo.findProduct(tx, productId);
        return { added, row };
      });
      if (!outcome.row) return { kind: 'not-found' };
      if (!outcome.added) return { kind: 'too-much' };
      cache.invalidate(productId);
      await publish(productTopic(productId), {
        type: 'stock-changed',
        id: productId,
        quantity: outcome.row.quantity,
        at,
      });
      return { kind: 'done', result: { quantity: outcome.row.quantity, status: 'Success' } };
    },

    /**
     * The original `setup.py [reset] [amount]`: `reset` wipes the products and re-inserts the
     * seeds with ids 1–10; otherwise only missing seeds (by description) are added. `amount`
     * sets every seed product's stock; without it, inserted products get a random 0–10.
     */
    async setup(options: SetupOptions): Promise<SetupReport> {
      const report = await db.transaction().execute((tx) => setupIn(tx, options));
      cache.invalidateAll();
      return report;
    },

    /**
     * Seeds an empty market, once per database (first start). Several nodes may start at once:
     * the `market.seeded` marker row is inserted in the seeding transaction, so one of them seeds
     * and the others, blocked on the same key, find it taken and skip.
     */
    async seedOnFirstStart(): Promise<boolean> {
      const at = now();
      try {
        const seeded = await db.transaction().execute(async (tx) => {
          await insertMarker(tx, SEEDED_MARKER, at);
          if (!(await repo.isEmpty(tx))) return false;
          await setupIn(tx, { reset: false });
          return true;
        });
        if (seeded) cache.invalidateAll();
        return seeded;
      } catch (err) {
        if (isUniqueViolation(err)) return false;
        throw err;
      }
    },

    /** Drops the read cache and its bus subscriptions. */
    close(): void {
      cache.close();
    },

    /** Forgets Idempotency-Keys older than the TTL. */
    async purgeExpiredKeys(): Promise<number> {
      return repo.deleteKeysCreatedBefore(db, new Date(clock().getTime() - ttlMs).toISOString());
    },
  };
}
