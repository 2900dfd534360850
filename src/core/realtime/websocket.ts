/**
 * The WebSocket gateway (`/ws`). Messages are JSON objects with an `op`:
 *
 * client → server: `{op:"subscribe", topics:[…], from?:{topic: offset}, epoch?}`,
 *                  `{op:"unsubscribe", topics:[…]}`, `{op:"ping"}`
 * server → client: `{op:"subscribed", topics:{topic: offset}, epoch}`, `{op:"unsubscribed", topics}`,
 *                  `{op:"event", topic, offset, epoch, type, data, at}`,
 *                  `{op:"gap", topic, after, latest}`,
 *                  `{op:"error", code, message}`, `{op:"pong"}`
 */
import type { FastifyBaseLogger } from 'fastify';
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import type { WebSocket } from '@fastify/websocket';
import { isValidTopic } from '../bus/types.js';
import type { RealtimeContext } from './context.js';
import { createTopicSubscriber } from './subscriber.js';

const Topics = Type.Array(Type.String({ maxLength: 100 }), { minItems: 1, maxItems: 1000 });

export const ClientMessage = Type.Union([
  Type.Object({
    op: Type.Literal('subscribe'),
    topics: Topics,
    from: Type.Optional(Type.Record(Type.String(), Type.Integer({ minimum: 0 }))),
    /** The epoch of `from`'s offsets, as `subscribed` and every event said. */
    epoch: Type.Optional(Type.String({ maxLength: 64 })),
  }),
  Type.Object({ op: Type.Literal('unsubscribe'), topics: Topics }),
  Type.Object({ op: Type.Literal('ping') }),
]);
export type ClientMessage = Static<typeof ClientMessage>;
const checkMessage = Compile(ClientMessage);

/** Serves one WebSocket connection until either side closes it. */
export function handleSocket(
  ctx: RealtimeContext,
  socket: WebSocket,
  log: FastifyBaseLogger,
  initialTopics: readonly string[],
): void {
  let alive = true;
  let open = true;

  const send = (text: string): void => {
    if (!open) return;
    socket.send(text);
    if (socket.bufferedAmount > ctx.config.max_buffered_bytes) {
      log.warn({ buffered: socket.bufferedAmount }, 'ws: dropping a client that does not keep up');
      ctx.metrics.dropped.inc({ transport: 'ws', reason: 'slow' });
      close();
      socket.terminate();
    }
  };
  const reply = (message: object): void => {
    send(JSON.stringify(message));
  };
  const fail = (code: string, message: string): void => {
    reply({ op: 'error', code, message });
  };

  const subscriber = createTopicSubscriber({
    bus: ctx.bus,
    deliver(event) {
      ctx.metrics.delivered.inc({ transport: 'ws' });
      send(`{"op":"event",${ctx.eventJson(event).slice(1)}`);
    },
    onGap(topic, info) {
      reply({ op: 'gap', topic, ...info });
    },
  });

  const connection = {
    transport: 'ws' as const,
    heartbeat() {
      if (!alive) {
        ctx.metrics.dropped.inc({ transport: 'ws', reason: 'unresponsive' });
        close();
        socket.terminate();
        return;
      }
      alive = false;
      socket.ping();
    },
    shutdown() {
      close();
      socket.close(1001, 'server shutting down');
    },
  };

  function close(): void {
    if (!open) return;
    open = false;
    subscriber.close();
    ctx.connections.delete(connection);
    ctx.metrics.connections.dec({ transport: 'ws' });
  }

  async function subscribe(
    topics: readonly string[],
    from?: Record<string, number>,
    epoch?: string,
  ): Promise<void> {
    const bad = topics.find((t) => !isValidTopic(t));
    if (bad !== undefined) {
      fail('INVALID_TOPIC', `invalid topic name: ${JSON.stringify(bad)}`);
      return;
    }
    const fresh = new Set(topics.filter((t) => !subscriber.has(t)));
    if (subscriber.size + fresh.size > ctx.config.max_topics) {
      fail(
        'TOO_MANY_TOPICS',
        `a connection may subscribe to at most ${ctx.config.max_topics} topics`,
      );
      return;
    }
    const cursor = await subscriber.add([...new Set(topics)], from, epoch);
    reply({ op: 'subscribed', topics: cursor, epoch: subscriber.epoch });
  }

  async function onMessage(raw: Buffer, isBinary: boolean): Promise<void> {
    let message: unknown;
    try {
      message = isBinary ? undefined : JSON.parse(raw.toString('utf8'));
    } catch {
      message = undefined;
    }
    if (!checkMessage.Check(message)) {
      fail('BAD_MESSAGE', 'expected a JSON object with op subscribe, unsubscribe or ping');
      return;
    }
    switch (message.op) {
      case 'subscribe':
        await subscribe(message.topics, message.from, message.epoch);
        break;
      case 'unsubscribe':
        subscriber.remove(message.topics);
        reply({ op: 'unsubscribed', topics: message.topics });
        break;
      case 'ping':
        reply({ op: 'pong' });
        break;
    }
  }

  ctx.connections.add(connection);
  ctx.metrics.connections.inc({ transport: 'ws' });
  socket.on('pong', () => {
    alive = true;
  });
  socket.on('close', close);
  socket.on('error', (err) => {
    log.debug({ err }, 'ws: socket error');
    close();
  });
  // Messages are handled one at a time so a subscription's replay finishes before the next op.
  let chain = Promise.resolve();
  socket.on('message', (raw: Buffer, isBinary: boolean) => {
    chain = chain
      .then(() => onMessage(raw, isBinary))
      .catch((err: unknown) => {
        log.error({ err }, 'ws: message handling failed');
        fail('INTERNAL_ERROR', 'the message could not be handled');
      });
  });
  if (initialTopics.length > 0) {
    chain = chain
      .then(() => subscribe(initialTopics))
      .catch((err: unknown) => {
        log.error({ err }, 'ws: initial subscription failed');
        fail('INTERNAL_ERROR', 'the subscription failed');
      });
  }
}
