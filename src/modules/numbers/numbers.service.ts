/**
 * `GET /total`: one upstream call in flight at a time, shared by every request that arrives
 * meanwhile (coalescing), and an optional short reuse of the last total (cache TTL).
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { NumbersConfig } from './numbers.config.js';
import { HttpSource, sumSimulated, UpstreamError } from './numbers.source.js';
import type { ExactSum } from './numbers.sum.js';

export interface Total {
  /** The total as exact JSON number text. */
  json: string;
  /** How many numbers were summed. */
  count: number;
  /** Time spent waiting for the upstream and summing, in milliseconds. */
  ms: number;
}

export interface TotalServiceStats {
  upstreamCalls: number;
  coalesced: number;
  cacheHits: number;
  inFlight: boolean;
}

export interface TotalServiceOptions {
  config: NumbersConfig;
  metrics: Registry;
  /** The clock of the cache TTL (tests inject one). */
  now?: () => number;
}

/** `GET /total`: one upstream call at a time shared by every request, an optional cached total. */
export type TotalService = ReturnType<typeof createTotalService>;

export function createTotalService(options: TotalServiceOptions) {
  const { config } = options;
  const now = options.now ?? Date.now;
  let inFlight: Promise<Total> | null = null;
  let cached: { total: Total; at: number } | null = null;
  const counts = { upstreamCalls: 0, coalesced: 0, cacheHits: 0 };
  const registers = [options.metrics];
  const upstreamSeconds = new Histogram({
    name: 'numbers_upstream_duration_seconds',
    help: 'Time to fetch and sum one list from the upstream, by source and outcome',
    labelNames: ['source', 'outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 1.05, 1.1, 1.25, 1.5, 2, 5, 10, 30],
    registers,
  });
  const summed = new Counter({
    name: 'numbers_summed_total',
    help: 'Numbers summed, from every source',
    registers,
  });
  const coalescedCounter = new Counter({
    name: 'numbers_coalesced_requests_total',
    help: 'GET /total requests that shared an upstream call already in flight',
    registers,
  });
  const cacheHitCounter = new Counter({
    name: 'numbers_cache_hits_total',
    help: 'GET /total requests answered from the cached total',
    registers,
  });
  const bytesParsed = new Counter({
    name: 'numbers_bytes_parsed_total',
    help: 'Bytes of JSON arrays parsed, by source (http upstream, POST body)',
    labelNames: ['source'] as const,
    registers,
  });
  const http =
    config.source === 'http'
      ? new HttpSource({
          url: config.upstream_url,
          timeoutMs: config.upstream_timeout_ms,
          maxBytes: config.upstream_max_bytes,
          onBytes: (n) => bytesParsed.inc({ source: 'http' }, n),
        })
      : null;

  async function fetchTotal(): Promise<Total> {
    counts.upstreamCalls++;
    const started = performance.now();
    const source = config.source;
    let sum: ExactSum;
    try {
      sum = http ? await http.sum() : await sumSimulated(config.count, config.delay_ms);
    } catch (err) {
      upstreamSeconds.observe({ source, outcome: 'error' }, (performance.now() - started) / 1000);
      throw err;
    }
    const ms = performance.now() - started;
    upstreamSeconds.observe({ source, outcome: 'ok' }, ms / 1000);
    summed.inc(sum.count);
    let json: string;
    try {
      json = sum.toJSON();
    } catch {
      throw new UpstreamError('the upstream total does not fit in a double');
    }
    const total: Total = { json, count: sum.count, ms };
    if (config.cache_ttl_ms > 0) cached = { total, at: now() };
    return total;
  }

  return {
    bytesParsed,

    /** The total of the configured source's list. */
    total(): Promise<Total> {
      const ttl = config.cache_ttl_ms;
      if (ttl > 0 && cached && now() - cached.at < ttl) {
        counts.cacheHits++;
        cacheHitCounter.inc();
        return Promise.resolve(cached.total);
      }
      if (inFlight) {
        counts.coalesced++;
        coalescedCounter.inc();
        return inFlight;
      }
      const call = fetchTotal().finally(() => {
        inFlight = null;
      });
      inFlight = call;
      return call;
    },

    /** Counts a sum made outside the sources (a POST body). */
    countSummed(n: number): void {
      summed.inc(n);
    },

    stats(): TotalServiceStats {
      return { ...counts, inFlight: inFlight !== null };
    },

    async close(): Promise<void> {
      await http?.close();
    },
  };
}
