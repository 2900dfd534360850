/**
 * Server-Sent Events over the bus: one `id:` per event carrying the connection's whole cursor,
 * so a browser's automatic `Last-Event-ID` resumes every topic at once.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BusEvent } from '../bus/types.js';
import { createTopicSubscriber, formatCursor, type Cursor } from './subscriber.js';
import type { RealtimeContext } from './context.js';

export interface EventStreamOptions {
  topics: readonly string[];
  /** Where to resume (parsed from `Last-Event-ID`); topics not in it start live. */
  from?: Cursor;
  /** The epoch of `from`'s offsets, when the client knows it. */
  epoch?: string;
  /** Events written right after the subscription is in place and before any live event (a snapshot). */
  prelude?: () => Promise<{ event: string; data: unknown }[]>;
  /**
   * A wire format of the caller's own (an original client's), instead of named JSON events:
   * called once subscribed, it gives the first frames and the frames of each later event ('' for
   * none); events that arrive meanwhile are held, then rendered after the first frames. No
   * cursor is sent, so nothing resumes; on a gap the stream ends, and a client that reconnects
   * starts over.
   */
  frames?: () => Promise<FrameRenderer>;
}

/** What `frames` gives: the first frames, and how each later event is written. */
export interface FrameRenderer {
  first: string;
  event: (event: BusEvent) => string;
}

const RETRY_MS = 2000;

/** Takes over the response and streams the topics' events until the client or the server leaves. */
export async function openEventStream(
  ctx: RealtimeContext,
  request: FastifyRequest,
  reply: FastifyReply,
  options: EventStreamOptions,
): Promise<void> {
  const res = reply.raw;
  reply.hijack();
  res.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    // Taken over: Fastify's onSend hooks, which set it on every other answer, do not run.
    'x-request-id': request.id,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write(`retry: ${RETRY_MS}\n: connected\n\n`);

  // Mutated from callbacks (client gone, slow client): an object, so no check reads a stale narrowing.
  const state = { open: true, ready: false };
  const pending: string[] = [];
  // With `frames`: the renderer once known, and the events that arrived before it.
  let renderer: FrameRenderer | null = null;
  const held: BusEvent[] = [];

  const write = (frame: string): void => {
    if (!state.open) return;
    if (!state.ready) {
      pending.push(frame);
      return;
    }
    res.write(frame);
    if (res.writableLength > ctx.config.max_buffered_bytes) {
      request.log.warn(
        { buffered: res.writableLength },
        'sse: dropping a client that does not keep up',
      );
      ctx.metrics.dropped.inc({ transport: 'sse', reason: 'slow' });
      close();
      res.destroy();
    }
  };

  const subscriber = createTopicSubscriber({
    bus: ctx.bus,
    deliver(event: BusEvent) {
      ctx.metrics.delivered.inc({ transport: 'sse' });
      if (options.frames) {
        if (!renderer) held.push(event);
        else {
          const frame = renderer.event(event);
          if (frame !== '') write(frame);
        }
        return;
      }
      write(
        `id: ${formatCursor(subscriber.cursor(), subscriber.epoch)}\nevent: ${event.type}\ndata: ${ctx.eventJson(event)}\n\n`,
      );
    },
    onGap(topic, info) {
      if (options.frames) {
        // The caller's format cannot say "reload": end the stream rather than show a wrong state.
        close();
        res.end();
        return;
      }
      write(`event: gap\ndata: ${JSON.stringify({ topic, ...info })}\n\n`);
    },
  });

  const connection = {
    transport: 'sse' as const,
    heartbeat() {
      if (state.open && state.ready) res.write(': ping\n\n');
    },
    shutdown() {
      close();
      res.end();
    },
  };

  function close(): void {
    if (!state.open) return;
    state.open = false;
    subscriber.close();
    ctx.connections.delete(connection);
    ctx.metrics.connections.dec({ transport: 'sse' });
  }

  ctx.connections.add(connection);
  ctx.metrics.connections.inc({ transport: 'sse' });
  request.raw.on('close', close);
  res.on('error', close);

  try {
    const cursor = await subscriber.add(options.topics, options.from, options.epoch);
    const { epoch } = subscriber;
    const head: string[] = [];
    if (options.frames) {
      const ready = await options.frames();
      renderer = ready;
      head.push(ready.first, ...held.splice(0).map((e) => ready.event(e)));
    } else {
      head.push(
        `id: ${formatCursor(subscriber.cursor(), epoch)}\nevent: subscribed\ndata: ${JSON.stringify({ topics: cursor, epoch })}\n\n`,
      );
    }
    if (options.prelude) {
      for (const item of await options.prelude()) {
        head.push(`event: ${item.event}\ndata: ${JSON.stringify(item.data)}\n\n`);
      }
    }
    if (!state.open) return;
    // The subscribed frame and prelude go first; anything replayed or published meanwhile follows.
    state.ready = true;
    const queued = pending.splice(0);
    res.write(head.join('') + queued.join(''));
  } catch (err) {
    request.log.error({ err }, 'sse: subscription failed');
    close();
    res.end(`event: error\ndata: ${JSON.stringify({ message: 'subscription failed' })}\n\n`);
  }
}
