/**
 * The numbers module's wire shapes, the single source of each: TypeBox schemas for the routes,
 * and their static types for the web page.
 */
import { Type, type Static } from 'typebox';
import type { NumbersConfig } from './numbers.config.js';

export const TotalBody = Type.Object(
  {
    total: Type.Number({
      description:
        'The sum. Integers are exact at any size (written as a JSON integer, possibly beyond 2^53); ' +
        'a list with fractions is summed with compensated (Neumaier) summation into a double.',
    }),
  },
  { description: 'The total of the list' },
);

/** `GET /numbers`: its bounds come from the settings. */
export const NumbersQuery = (config: NumbersConfig) =>
  Type.Object(
    {
      count: Type.Integer({
        minimum: 0,
        maximum: config.max_count,
        default: config.count,
        description: 'how many numbers: the array is 0 … count − 1',
      }),
      delay_ms: Type.Integer({
        minimum: 0,
        maximum: 60_000,
        default: 0,
        description: 'wait this long before answering',
      }),
    },
    { additionalProperties: false },
  );

export const NumbersStats = Type.Object({
  source: Type.String(),
  count: Type.Integer(),
  delay_ms: Type.Integer(),
  total_path: Type.String(),
  upstream_calls: Type.Integer(),
  coalesced: Type.Integer(),
  cache_hits: Type.Integer(),
  in_flight: Type.Boolean(),
  event_loop: Type.Object({
    p50_ms: Type.Number(),
    p99_ms: Type.Number(),
    max_ms: Type.Number(),
  }),
});
/** What `GET /numbers/stats` answers (the web page polls it). */
export type NumbersStats = Static<typeof NumbersStats>;

export const FanOutQuery = Type.Object(
  {
    n: Type.Integer({ minimum: 1, maximum: 64, default: 16, description: 'requests at once' }),
  },
  { additionalProperties: false },
);

/** One line of `GET /numbers/fan-out` per request, as it is answered. */
export interface FanOutAnswer {
  i: number;
  status: number;
  ms: number;
  /** The total's text (exact, possibly beyond 2^53), or the error's message. */
  total?: string;
  error?: string;
}
/** The last line: what the fan-out cost the upstream, and the event loop meanwhile. */
export interface FanOutSummary {
  done: true;
  n: number;
  ms: number;
  upstream_calls: number;
  coalesced: number;
  cache_hits: number;
  event_loop_max_ms: number;
}
