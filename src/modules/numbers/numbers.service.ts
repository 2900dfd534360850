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

export class TotalService {
  private inFlight: Promise<Total> | null = null;
  private cached: { total: Total; at: number } | null = null;
  private readonly http: HttpSource | null;
  private readonly now: () => number;
  private readonly config: NumbersConfig;
  private readonly counts = { upstreamCalls: 0, coalesced: 0, cacheHits: 0 };
  private readonly upstreamSeconds: Histogram<'source' | 'outcome'>;
  private readonly summed: Counter;
  private readonly coalescedCounter: Counter;
  private readonly cacheHitCounter: Counter;
  readonly bytesParsed: Counter<'source'>;

  constructor(options: TotalServiceOptions) {
    this.config = options.config;
    this.now = options.now ?? Date.now;
    const registers = [options.metrics];
    this.upstreamSeconds = new Histogram({
      name: 'numbers_upstream_duration_seconds',
      help: 'Time to fetch and sum one list from the upstream, by source and outcome',
      labelNames: ['source', 'outcome'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 1.05, 1.1, 1.25, 1.5, 2, 5, 10, 30],
      registers,
    });
    this.summed = new Counter({
      name: 'numbers_summed_total',
      help: 'Numbers summed, from every source',
      registers,
    });
    this.coalescedCounter = new Counter({
      name: 'numbers_coalesced_requests_total',
      help: 'GET /total requests that shared an upstream call already in flight',
      registers,
    });
    this.cacheHitCounter = new Counter({
      name: 'numbers_cache_hits_total',
      help: 'GET /total requests answered from the cached total',
      registers,
    });
    this.bytesParsed = new Counter({
      name: 'numbers_bytes_parsed_total',
      help: 'Bytes of JSON arrays parsed, by source (http upstream, POST body)',
      labelNames: ['source'] as const,
      registers,
    });
    const { source, upstream_url: url } = this.config;
    this.http =
      source === 'http'
        ? new HttpSource({
            url,
            timeoutMs: this.config.upstream_timeout_ms,
            maxBytes: this.config.upstream_max_bytes,
            onBytes: (n) => this.bytesParsed.inc({ source: 'http' }, n),
          })
        : null;
  }

  /** The total of the configured source's list. */
  total(): Promise<Total> {
    const ttl = this.config.cache_ttl_ms;
    if (ttl > 0 && this.cached && this.now() - this.cached.at < ttl) {
      this.counts.cacheHits++;
      this.cacheHitCounter.inc();
      return Promise.resolve(this.cached.total);
    }
    if (this.inFlight) {
      this.counts.coalesced++;
      this.coalescedCounter.inc();
      return this.inFlight;
    }
    const call = this.fetchTotal().finally(() => {
      this.inFlight = null;
    });
    this.inFlight = call;
    return call;
  }

  /** Counts a sum made outside the sources (a POST body). */
  countSummed(n: number): void {
    this.summed.inc(n);
  }

  stats(): TotalServiceStats {
    return { ...this.counts, inFlight: this.inFlight !== null };
  }

  private async fetchTotal(): Promise<Total> {
    this.counts.upstreamCalls++;
    const started = performance.now();
    const source = this.config.source;
    let sum: ExactSum;
    try {
      sum = this.http
        ? await this.http.sum()
        : await sumSimulated(this.config.count, this.config.delay_ms);
    } catch (err) {
      this.upstreamSeconds.observe(
        { source, outcome: 'error' },
        (performance.now() - started) / 1000,
      );
      throw err;
    }
    const ms = performance.now() - started;
    this.upstreamSeconds.observe({ source, outcome: 'ok' }, ms / 1000);
    this.summed.inc(sum.count);
    let json: string;
    try {
      json = sum.toJSON();
    } catch {
      throw new UpstreamError('the upstream total does not fit in a double');
    }
    const total: Total = { json, count: sum.count, ms };
    if (this.config.cache_ttl_ms > 0) this.cached = { total, at: this.now() };
    return total;
  }

  async close(): Promise<void> {
    await this.http?.close();
  }
}
