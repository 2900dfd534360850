import { Type, type Static } from 'typebox';

/** The market's settings (`market:` in agora.yaml). */
export const MarketConfig = Type.Object(
  {
    /** Where the product CRUD routes live; the module's own prefix holds query/buy/replenish. */
    product_prefix: Type.String({
      description: 'mount of the product CRUD routes',
      pattern: '^/[A-Za-z0-9._~/-]*$',
      default: '/product',
    }),
    /** The original's profile (Flask market): a numeric card number, its status at `GET /`. */
    compat: Type.Boolean({
      description:
        "the original client's profile: credit_card also as a JSON number (exactly 16 digits), the status at GET /",
      default: false,
    }),
    /** What prices are counted in; only the web page shows it (prices are whole units). */
    currency: Type.String({
      description: 'ISO 4217 code of the currency prices are in, shown by the web page',
      pattern: '^[A-Z]{3}$',
      default: 'EUR',
    }),
    /** Add the ten seed products on the first start of an empty market. */
    seed: Type.Boolean({
      description: 'seed the ten starter products on the first start',
      default: true,
    }),
    /** How long an Idempotency-Key is remembered. */
    idempotency_ttl_hours: Type.Integer({
      description: 'how long an Idempotency-Key of a purchase is remembered',
      minimum: 1,
      maximum: 24 * 30,
      default: 24,
    }),
    /**
     * A purchase whose node died before it answered leaves its Idempotency-Key pending: a retry
     * gets 409 until the key is this old, then takes it over (and buys, at most once).
     */
    idempotency_takeover_ms: Type.Integer({
      description:
        'a purchase left pending by a node that died: retries get 409 until its key is this old, then take it over',
      minimum: 1000,
      maximum: 3_600_000,
      default: 60_000,
    }),
    /**
     * How long a node may answer product reads from memory. Its own changes, and every change
     * announced on the bus, are seen at once; this bounds the others. 0: always the database.
     */
    read_cache_ms: Type.Integer({
      description:
        "how long product reads may come from memory: own changes at once, other nodes' when their event arrives, at worst after this; 0: off",
      minimum: 0,
      maximum: 60_000,
      default: 250,
    }),
  },
  { additionalProperties: false, default: {} },
);
export type MarketConfig = Static<typeof MarketConfig>;
