/**
 * Prometheus metrics on `/metrics`: one registry per app (so tests can build many apps), the
 * HTTP duration histogram by method, route template and status, and prom-client's process and
 * event-loop delay metrics. Modules add their own metrics to `app.metrics`. Under
 * `--workers N`, every worker's `/metrics` shows the sum over all workers (prom-client's cluster
 * aggregation, run by the primary).
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AggregatorRegistry, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { isClusterWorker, primaryChannel } from './cluster/ipc.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry;
  }
}

async function metricsPlugin(app: FastifyInstance): Promise<void> {
  const registry = new Registry();
  // The event-loop delay is sampled every millisecond: each sample is the whole interval between
  // two timer turns, so an idle loop reads about the sampling interval. At 10 ms an idle server
  // read p50 10.2 ms, useless against a 10 ms target; at 1 ms it reads about 1 ms.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1 });
  const duration = new RequestDurations(
    'http_server_request_duration_seconds',
    'Duration of HTTP requests, by method, route template and status code',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
  // Registries take any object with prom-client's `get()`; the typings know only its own classes.
  registry.registerMetric(duration as unknown as Metric);
  app.decorate('metrics', registry);
  const clustered = isClusterWorker();
  if (clustered) {
    // prom-client's own cluster protocol: constructing an aggregator makes this worker answer
    // the primary's requests with this registry's metrics.
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries([registry]);
  }

  // As each answer finishes (not from an `onResponse` hook: see request-events.ts).
  app.requestEvents.onCompleted((_error, request, reply) => {
    // The template (`/market/query/:id`), never the raw URL: label values must stay bounded.
    duration.observe(
      request.method,
      request.routeOptions.url ?? '<unmatched>',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });

  app.get(
    '/metrics',
    {
      config: { quietLog: true },
      schema: {
        tags: ['core'],
        summary: 'Prometheus metrics',
        produces: ['text/plain'],
        response: { 200: { type: 'string', description: 'Prometheus text exposition format' } },
      },
    },
    async (_request, reply) => {
      // A worker of `--workers N` answers for the whole cluster: the primary asks every worker.
      const text = clustered
        ? await primaryChannel().request<string>('metrics', 'collect')
        : await registry.metrics();
      return reply.type(registry.contentType).send(text);
    },
  );

  app.addHook('onClose', async () => {
    registry.clear();
  });
}

interface Value {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

interface Series {
  labels: { method: string; route: string; status_code: string };
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

/**
 * The request-duration histogram. prom-client's own Histogram builds a closure, validates the
 * label names and hashes the label set on every observation — several microseconds, on every
 * request. Here a series is found by one string key, and the Prometheus text is prom-client's.
 */
class RequestDurations {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  /**
   * Route template → method → status → series. Nested maps of strings Fastify already holds (the
   * template, the method) hash each key once; a joined key would be a new string, hashed anew,
   * on every request.
   */
  readonly #series = new Map<string, Map<string, Map<number, Series>>>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {}

  observe(method: string, route: string, status: number, seconds: number): void {
    let byMethod = this.#series.get(route);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.#series.set(route, byMethod);
    }
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) {
      byStatus = new Map();
      byMethod.set(method, byStatus);
    }
    let series = byStatus.get(status);
    if (series === undefined) {
      series = {
        labels: { method, route, status_code: String(status) },
        counts: new Array<number>(this.bounds.length + 1).fill(0),
        sum: 0,
        count: 0,
      };
      byStatus.set(status, series);
    }
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && seconds > (bounds[i] ?? Infinity)) i++;
    series.counts[i] = (series.counts[i] ?? 0) + 1;
    series.sum += seconds;
    series.count += 1;
  }

  *#all(): Generator<Series> {
    for (const byMethod of this.#series.values()) {
      for (const byStatus of byMethod.values()) yield* byStatus.values();
    }
  }

  /** What prom-client's registry turns into text: the cumulative buckets, sum and count. */
  get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: Value[];
  }> {
    const values: Value[] = [];
    for (const { labels, counts, sum, count } of this.#all()) {
      let cumulative = 0;
      counts.forEach((n, i) => {
        cumulative += n;
        const le = i < this.bounds.length ? (this.bounds[i] ?? 0) : '+Inf';
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { le, ...labels },
          value: cumulative,
        });
      });
      values.push({ metricName: `${this.name}_sum`, labels, value: sum });
      values.push({ metricName: `${this.name}_count`, labels, value: count });
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    });
  }

  reset(): void {
    this.#series.clear();
  }
}

export default fp(metricsPlugin, {
  name: 'agora-metrics',
  fastify: '5.x',
  decorators: { fastify: ['requestEvents'] },
});
