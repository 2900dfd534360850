import { Type, type Static } from 'typebox';

/** The numbers module's settings (`numbers:` in agora.yaml). */
export const NumbersConfig = Type.Object(
  {
    /** Where `GET /total` takes its list: the built-in simulated backend, or an HTTP upstream. */
    source: Type.Union([Type.Literal('simulated'), Type.Literal('http')], {
      description: 'where GET /total takes its list: simulated or http',
      default: 'simulated',
    }),
    /** The simulated backend's list: the integers 0 … count − 1. */
    count: Type.Integer({
      description: 'the simulated list is 0 … count − 1',
      minimum: 0,
      maximum: 2_000_000_000,
      default: 1_000_001,
    }),
    /** The simulated backend's delay before it answers. */
    delay_ms: Type.Integer({
      description: 'the simulated backend answers after this delay',
      minimum: 0,
      maximum: 600_000,
      default: 1000,
    }),
    /** The `http` source: a URL answering a JSON array of numbers. */
    upstream_url: Type.String({
      description: 'the http source: a URL answering a JSON array of numbers',
      default: '',
      pattern: '^($|https?://)',
    }),
    /** The whole upstream call (headers and body) must finish within this. */
    upstream_timeout_ms: Type.Integer({
      description: 'the whole upstream call must finish within this (502 otherwise)',
      minimum: 100,
      maximum: 3_600_000,
      default: 30_000,
    }),
    /** An upstream body longer than this is refused (502). */
    upstream_max_bytes: Type.Integer({
      description: 'a longer upstream body is refused (502)',
      minimum: 1024,
      default: 4 * 1024 * 1024 * 1024,
    }),
    /** How long a computed total is reused; 0: every request (or coalesced group) asks again. */
    cache_ttl_ms: Type.Integer({
      description: 'reuse a computed total this long; 0: off',
      minimum: 0,
      maximum: 86_400_000,
      default: 0,
    }),
    /** Largest `POST /total` body (413 past it). */
    post_max_bytes: Type.Integer({
      description: 'largest POST /total body (413 past it)',
      minimum: 1024,
      default: 256 * 1024 * 1024,
    }),
    /** Largest `count` that `GET /numbers` serves. */
    max_count: Type.Integer({
      description: 'largest count GET /numbers serves',
      minimum: 1,
      maximum: 2_000_000_000,
      default: 100_000_000,
    }),
    /** Where the sum endpoint lives (the module's own prefix holds `/numbers` and its page). */
    total_path: Type.String({
      description: 'where the sum endpoint lives',
      pattern: '^/[A-Za-z0-9._~/-]*$',
      default: '/total',
    }),
  },
  { additionalProperties: false, default: {} },
);
export type NumbersConfig = Static<typeof NumbersConfig>;
