/**
 * The numbers module's HTTP surface: `GET|POST /total`, the module's own upstream
 * `GET /numbers`, `GET /numbers/stats` for the page, and the page itself.
 */
import { PassThrough, Readable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { ErrorBody } from '../../core/errors.js';
import { modulePage } from '../../core/pages.js';
import type { NumbersConfig } from './numbers.config.js';
import type { Total, TotalService } from './numbers.service.js';
import { feed, rangeArrayStream, UpstreamError } from './numbers.source.js';
import { ArrayParseError, ArraySummer } from './numbers.parse.js';
import { NumbersErrors } from './numbers.errors.js';
import {
  FanOutQuery,
  NumbersQuery,
  NumbersStats,
  TotalBody,
  type FanOutAnswer,
  type FanOutSummary,
} from './numbers.schemas.js';

const errors = { 400: ErrorBody, 413: ErrorBody, 422: ErrorBody, 502: ErrorBody };

function sendTotal(reply: FastifyReply, json: string): FastifyReply {
  // Built by hand: a BigInt total has no JSON.stringify, and the text is already exact.
  return reply.type('application/json; charset=utf-8').send(`{"total":${json}}`);
}

function serverTiming(ms: number): string {
  return `upstream;dur=${ms.toFixed(1)}`;
}

/** The total's text, or a 422 when a fractional total overflows a double. */
function totalText(toJSON: () => string): string {
  try {
    return toJSON();
  } catch (err) {
    if (err instanceof RangeError) {
      throw NumbersErrors.totalOutOfRange();
    }
    throw err;
  }
}

export interface TotalRouteOptions {
  config: NumbersConfig;
  service: TotalService;
}

/** `GET /total` (the configured source) and `POST /total` (the body's list). */
export async function totalRoutes(
  app: FastifyInstance,
  { config, service }: TotalRouteOptions,
): Promise<void> {
  // The body is parsed as it streams: hand the raw stream to the handler, whatever its type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => {
    done(null, payload);
  });
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();

  routes.get(
    '/',
    {
      schema: {
        tags: ['numbers'],
        summary: 'The sum of the configured source’s list',
        description:
          'Concurrent requests share one upstream call (coalescing); the `Server-Timing` header ' +
          'says how long the upstream and the sum took. Upstream failures answer 502.',
        response: { 200: TotalBody, 502: ErrorBody },
      },
    },
    async (_request, reply) => {
      let total: Total;
      try {
        total = await service.total();
      } catch (err) {
        if (err instanceof UpstreamError) {
          throw NumbersErrors.upstreamFailed(err.message);
        }
        throw err;
      }
      reply.header('server-timing', serverTiming(total.ms)).header('cache-control', 'no-store');
      return sendTotal(reply, total.json);
    },
  );

  routes.post(
    '/',
    {
      schema: {
        tags: ['numbers'],
        summary: 'The sum of the JSON array of numbers in the body',
        description:
          'The body is parsed as it arrives (any size up to `numbers.post_max_bytes`, 413 past it). ' +
          'A malformed array or a non-number answers 400 with the byte offset and element index.',
        response: { 200: TotalBody, ...errors },
      },
    },
    async (request, reply) => {
      const limit = config.post_max_bytes;
      const declared = Number(request.headers['content-length'] ?? 0);
      const tooLarge = NumbersErrors.bodyTooLarge(limit);
      if (declared > limit) throw tooLarge;
      const started = performance.now();
      const summer = new ArraySummer();
      try {
        const body: unknown = request.body;
        if (body instanceof Readable) {
          let bytes = 0;
          for await (const chunk of body) {
            const piece = chunk as Buffer;
            bytes += piece.length;
            if (bytes > limit) throw tooLarge;
            await feed(summer, piece);
          }
          service.bytesParsed.inc({ source: 'post' }, bytes);
        }
        summer.end();
      } catch (err) {
        if (err instanceof ArrayParseError) {
          // The rest of the body is not read: close the connection rather than drain it.
          throw NumbersErrors.badArray(err.message, err.offset, err.element);
        }
        throw err;
      }
      service.countSummed(summer.sum.count);
      const json = totalText(() => summer.sum.toJSON());
      reply.header('server-timing', `sum;dur=${(performance.now() - started).toFixed(1)}`);
      return sendTotal(reply, json);
    },
  );
}

export interface NumbersRouteOptions {
  config: NumbersConfig;
  service: TotalService;
}

/** Event-loop delay over the last second, for the page. */
function loopMonitor(): {
  read(): { p50_ms: number; p99_ms: number; max_ms: number };
  stop(): void;
} {
  const resolution = 5;
  const histogram = monitorEventLoopDelay({ resolution });
  histogram.enable();
  let last = { p50_ms: 0, p99_ms: 0, max_ms: 0 };
  // The samples are whole timer intervals: the delay is what exceeds the resolution.
  const ms = (ns: number): number => Math.max(0, Math.round(ns / 1e4) / 100 - resolution);
  const timer = setInterval(() => {
    last = {
      p50_ms: ms(histogram.percentile(50)),
      p99_ms: ms(histogram.percentile(99)),
      max_ms: ms(histogram.max),
    };
    histogram.reset();
  }, 1000);
  timer.unref();
  return {
    read: () => last,
    stop() {
      clearInterval(timer);
      histogram.disable();
    },
  };
}

/** `GET /numbers` (the module's own upstream), `GET /numbers/stats` and the page. */
export async function numbersRoutes(
  app: FastifyInstance,
  { config, service }: NumbersRouteOptions,
): Promise<void> {
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();
  const monitor = loopMonitor();
  app.addHook('onClose', async () => {
    monitor.stop();
  });

  /** A browser opening the bare URL gets the page; anything with parameters is the API. */
  const page = modulePage('numbers');

  routes.get(
    '/',
    {
      schema: {
        tags: ['numbers'],
        summary: 'A JSON array of the integers 0 … count − 1, streamed in chunks',
        description:
          'The module’s own upstream, for the `http` source and for tests. The text is written ' +
          'as it is sent and never held whole. (A browser opening the bare URL gets the page.)',
        querystring: NumbersQuery(config),
        produces: ['application/json'],
        response: {
          // Streamed: the handler sends a Readable of the array's text.
          200: Type.Unsafe<Readable>(
            Type.Array(Type.Integer(), { description: 'the integers 0 … count − 1' }),
          ),
          400: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      if (page.wanted(request)) return page.send(reply);
      const { count, delay_ms: delayMs } = request.query;
      if (delayMs > 0) {
        const gone = new AbortController();
        const onClose = (): void => {
          gone.abort();
        };
        // The response's close (not the request's) says the client went away.
        reply.raw.once('close', onClose);
        const left = await sleep(delayMs, undefined, { signal: gone.signal }).then(
          () => false,
          () => true,
        );
        reply.raw.off('close', onClose);
        if (left) return reply; // the client went away during the delay
      }
      return reply.type('application/json; charset=utf-8').send(rangeArrayStream(count));
    },
  );

  /** Fan-outs running on this node: each is up to 64 requests, so they are few at a time. */
  const fanOuts = { running: 0, max: 2 };
  routes.get(
    '/fan-out',
    {
      schema: {
        tags: ['numbers'],
        summary:
          'Fires n requests to the total at once, from the server, and streams their timings',
        description:
          'A browser sends at most 6 requests at once to one host, so it cannot show what n ' +
          'concurrent clients see. Here the server makes the n requests itself, in-process ' +
          'through its whole HTTP pipeline, all at once, and writes one JSON line per answer as ' +
          'it comes (`{i, status, ms, total | error}`), then a summary line ' +
          '(`{done, n, ms, upstream_calls, coalesced, cache_hits, event_loop_max_ms}`): the ' +
          'upstream calls made and the requests that shared one. At most 2 fan-outs run at a ' +
          'time per node (503 otherwise).',
        querystring: FanOutQuery,
        produces: ['application/x-ndjson'],
        response: {
          200: Type.Unsafe<Readable>(Type.String({ description: 'newline-delimited JSON' })),
          400: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      if (fanOuts.running >= fanOuts.max) throw NumbersErrors.fanOutBusy(fanOuts.max);
      fanOuts.running++;
      const { n } = request.query;
      const out = new PassThrough();
      const line = (value: FanOutAnswer | FanOutSummary): void => {
        out.write(`${JSON.stringify(value)}\n`);
      };
      const before = service.stats();
      const started = performance.now();
      let worstLoop = 0;
      const sample = setInterval(() => {
        worstLoop = Math.max(worstLoop, monitor.read().max_ms);
      }, 250);
      const one = async (i: number): Promise<void> => {
        const t0 = performance.now();
        const res = await app.inject({ method: 'GET', url: config.total_path });
        const ms = Math.round((performance.now() - t0) * 10) / 10;
        const total = /^\{"total":(.+)\}$/.exec(res.body)?.[1];
        if (res.statusCode === 200 && total !== undefined)
          line({ i, status: res.statusCode, ms, total });
        else
          line({
            i,
            status: res.statusCode,
            ms,
            error: res.json<{ error?: { message?: string } }>().error?.message ?? res.statusMessage,
          });
      };
      void Promise.all(Array.from({ length: n }, (_, i) => one(i + 1)))
        .then(() => {
          const after = service.stats();
          line({
            done: true,
            n,
            ms: Math.round((performance.now() - started) * 10) / 10,
            upstream_calls: after.upstreamCalls - before.upstreamCalls,
            coalesced: after.coalesced - before.coalesced,
            cache_hits: after.cacheHits - before.cacheHits,
            event_loop_max_ms: Math.max(worstLoop, monitor.read().max_ms),
          });
        })
        .catch((err: unknown) => {
          request.log.error({ err }, 'numbers: fan-out failed');
        })
        .finally(() => {
          clearInterval(sample);
          fanOuts.running--;
          out.end();
        });
      return reply
        .type('application/x-ndjson; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('x-accel-buffering', 'no')
        .send(out);
    },
  );

  routes.get(
    '/stats',
    {
      config: { quietLog: true },
      schema: {
        tags: ['numbers'],
        summary: 'The configured source, call counters and the event-loop delay of the last second',
        response: {
          200: NumbersStats,
        },
      },
    },
    () => {
      const s = service.stats();
      return {
        source: config.source,
        count: config.count,
        delay_ms: config.delay_ms,
        total_path: config.total_path,
        upstream_calls: s.upstreamCalls,
        coalesced: s.coalesced,
        cache_hits: s.cacheHits,
        in_flight: s.inFlight,
        event_loop: monitor.read(),
      };
    },
  );
}
