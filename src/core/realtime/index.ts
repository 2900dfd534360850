/**
 * Realtime gateways over the bus: WebSocket at `/ws` and Server-Sent Events at `/events`.
 * Modules reuse the SSE writer through `app.realtime.openEventStream` (e.g. a board with a
 * snapshot on connect). On shutdown every connection is closed cleanly before the server waits
 * for in-flight requests.
 */
import websocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge } from 'prom-client';
import { Type } from 'typebox';
import type { BusEvent } from '../bus/types.js';
import { isValidTopic } from '../bus/types.js';
import { AppError, ErrorBody } from '../errors.js';
import type { LiveConnection, RealtimeContext } from './context.js';
import { openEventStream, type EventStreamOptions } from './sse.js';
import { parseResume, type Resume } from './subscriber.js';
import { handleSocket } from './websocket.js';
import { isRecord } from '../validation.js';

export type { Cursor, Resume } from './subscriber.js';
export type { EventStreamOptions } from './sse.js';

declare module 'fastify' {
  interface FastifyInstance {
    realtime: {
      openEventStream(
        request: FastifyRequest,
        reply: FastifyReply,
        options: EventStreamOptions,
      ): Promise<void>;
      /**
       * Where a request resumes (`Last-Event-ID` header or `last_event_id` query): offsets and
       * their epoch; spread it into `openEventStream`'s options.
       */
      resumeCursor(request: FastifyRequest): Resume;
      /** Parses `a,b,c` into valid, distinct topics or throws a 400 `AppError`. */
      parseTopics(list: string): string[];
      readonly connections: number;
      /** Closes every realtime connection (clients reconnect and resume); returns how many. */
      disconnectAll(): number;
    };
  }
}

const MAX_WS_MESSAGE_BYTES = 64 * 1024;

async function realtimePlugin(app: FastifyInstance): Promise<void> {
  const config = app.config.realtime;
  const connections = new Set<LiveConnection>();
  const json = new WeakMap<BusEvent, string>();
  const ctx: RealtimeContext = {
    bus: app.bus,
    config,
    connections,
    eventJson(event) {
      let text = json.get(event);
      if (text === undefined) {
        text = JSON.stringify({
          topic: event.topic,
          offset: event.offset,
          epoch: event.epoch,
          type: event.type,
          data: event.data,
          at: event.at,
        });
        json.set(event, text);
      }
      return text;
    },
    metrics: {
      connections: new Gauge({
        name: 'realtime_connections',
        help: 'Open realtime connections',
        labelNames: ['transport'] as const,
        registers: [app.metrics],
      }),
      dropped: new Counter({
        name: 'realtime_dropped_clients_total',
        help: 'Realtime clients dropped by the server (slow or unresponsive)',
        labelNames: ['transport', 'reason'] as const,
        registers: [app.metrics],
      }),
      delivered: new Counter({
        name: 'realtime_events_delivered_total',
        help: 'Events written to realtime clients',
        labelNames: ['transport'] as const,
        registers: [app.metrics],
      }),
    },
  };

  function parseTopics(list: string): string[] {
    const topics = [
      ...new Set(
        list
          .split(',')
          .map((t) => t.trim())
          .filter((t) => t.length > 0),
      ),
    ];
    if (topics.length === 0)
      throw new AppError('INVALID_TOPIC', 400, 'at least one topic is required');
    const bad = topics.find((t) => !isValidTopic(t));
    if (bad !== undefined)
      throw new AppError('INVALID_TOPIC', 400, `invalid topic name: ${JSON.stringify(bad)}`);
    if (topics.length > config.max_topics) {
      throw new AppError(
        'TOO_MANY_TOPICS',
        400,
        `at most ${config.max_topics} topics per connection`,
      );
    }
    return topics;
  }

  function resumeCursor(request: FastifyRequest): Resume {
    const header = request.headers['last-event-id'];
    const parameters: unknown = request.query;
    const query = isRecord(parameters) ? parameters.last_event_id : undefined;
    const text =
      typeof header === 'string' ? header : typeof query === 'string' ? query : undefined;
    return parseResume(text, isValidTopic);
  }

  app.decorate('realtime', {
    openEventStream: (request: FastifyRequest, reply: FastifyReply, options: EventStreamOptions) =>
      openEventStream(ctx, request, reply, options),
    resumeCursor,
    parseTopics,
    get connections() {
      return connections.size;
    },
    disconnectAll() {
      const all = [...connections];
      for (const connection of all) connection.shutdown();
      return all.length;
    },
  });

  const heartbeat = setInterval(() => {
    for (const connection of connections) connection.heartbeat();
  }, config.heartbeat_ms);
  heartbeat.unref();

  const TopicsQuery = Type.Object({
    topics: Type.String({
      description: 'comma-separated topics, e.g. product.3,products.new',
      maxLength: 20_000,
    }),
    last_event_id: Type.Optional(Type.String({ maxLength: 20_000 })),
  });

  const routes = app.withTypeProvider<TypeBoxTypeProvider>();
  routes.get(
    '/events',
    {
      schema: {
        tags: ['realtime'],
        summary: 'Server-Sent Events for a set of topics',
        description:
          'Each event has `event: <type>`, `data: {topic, offset, epoch, type, data, at}` and an `id:` that resumes every topic when sent back as `Last-Event-ID`; `event: gap` (`{topic, after, latest}`) says events may have been missed: reload.',
        querystring: TopicsQuery,
        produces: ['text/event-stream'],
        response: { 200: { type: 'string', description: 'text/event-stream' }, 400: ErrorBody },
      },
    },
    async (request, reply) => {
      const topics = parseTopics(request.query.topics);
      await app.realtime.openEventStream(request, reply, { topics, ...resumeCursor(request) });
    },
  );

  // The WebSocket plugin's hooks (one onRequest, one onResponse) run for every route of the scope
  // it is registered in: its own scope keeps them off every other request.
  await app.register(async (scope) => {
    await scope.register(websocket, {
      options: { maxPayload: MAX_WS_MESSAGE_BYTES },
      // Close every realtime connection (WS and SSE) before the server waits for in-flight requests.
      preClose(done) {
        clearInterval(heartbeat);
        for (const connection of [...connections]) connection.shutdown();
        done();
      },
    });

    scope.withTypeProvider<TypeBoxTypeProvider>().get(
      '/ws',
      {
        websocket: true,
        schema: {
          tags: ['realtime'],
          summary: 'WebSocket: subscribe/unsubscribe to topics, resume from offsets',
          querystring: Type.Object({ topics: Type.Optional(Type.String({ maxLength: 20_000 })) }),
        },
      },
      (socket, request) => {
        let initial: string[] = [];
        try {
          initial = request.query.topics ? parseTopics(request.query.topics) : [];
        } catch (err) {
          socket.close(1008, err instanceof Error ? err.message.slice(0, 120) : 'invalid topics');
          return;
        }
        handleSocket(ctx, socket, request.log, initial);
      },
    );
  });
}

export default fp(realtimePlugin, {
  name: 'agora-realtime',
  fastify: '5.x',
  dependencies: ['agora-bus', 'agora-metrics', 'agora-errors'],
});
