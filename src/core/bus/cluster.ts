/**
 * The bus of `agora serve --workers N` without Redis: the primary numbers every event (an
 * in-process bus of its own, `hostClusterBus`) and sends it to every worker; each worker's
 * listeners get it from there, the publishing worker's included, so that every worker sees one
 * order and the same offsets, and a client resumes on any worker. History and latest offsets are
 * the primary's.
 */
import type { Worker } from 'node:cluster';
import type { FastifyBaseLogger } from 'fastify';
import { createAnnouncer } from './announce.js';
import { LocalListeners } from './listeners.js';
import type { Bus, BusEvent, HistoryPage, Position } from './types.js';
import { isAgoraMessage, primaryChannel, type PrimaryChannel } from '../cluster/ipc.js';

const KIND = 'bus';

/** A worker's bus: publishes through the primary, delivers what the primary sends. */
export function createClusterBus(options: {
  logger: FastifyBaseLogger;
  channel?: PrimaryChannel;
}): Bus {
  const channel = options.channel ?? primaryChannel();
  const listeners = new LocalListeners(options.logger);
  /** This worker's publishes waiting for their event to come back numbered. */
  const mine = new Map<number, (event: BusEvent) => void>();
  let nextId = 1;
  let closed = false;

  const stopListening = channel.on(KIND, (message) => {
    if (message.op !== 'event') return;
    const event = message.event as BusEvent;
    if (typeof message.ref === 'number' && message.from === process.pid) {
      mine.get(message.ref)?.(event);
      mine.delete(message.ref);
    }
    listeners.deliver(event);
  });
  // Without the primary, no event reaches this worker: whatever a client shows may be stale.
  channel.onLost(() => {
    listeners.gapAll();
  });

  function publish<T>(topic: string, type: string, data: T): Promise<BusEvent<T>> {
    if (closed) return Promise.reject(new Error('bus is closed'));
    const ref = nextId++;
    return new Promise<BusEvent<T>>((resolve, reject) => {
      mine.set(ref, resolve as (event: BusEvent) => void);
      channel
        .request<null>(KIND, 'publish', { ref, from: process.pid, topic, type, data })
        .catch((err: unknown) => {
          mine.delete(ref);
          reject(err instanceof Error ? err : new Error(String(err)));
        });
    });
  }
  const announcer = createAnnouncer(publish, listeners, options.logger);

  return {
    kind: 'cluster',
    publish,
    announce: announcer.announce,
    subscribe: (topic, listener, onGap) => listeners.add(topic, listener, onGap),
    latest: (topic) => channel.request<Position>(KIND, 'latest', { topic }),
    history: (topic, after, epoch) =>
      channel.request<HistoryPage>(KIND, 'history', { topic, after, epoch }),
    async ping() {
      await channel.request(KIND, 'ping');
    },
    async close() {
      await announcer.settled();
      closed = true;
      stopListening();
      listeners.clear();
    },
  };
}

/**
 * The primary's side: numbers each worker's event on `bus` (an in-process bus) and sends it to
 * every worker, and answers their questions about history.
 */
export function hostClusterBus(
  bus: Bus,
  workers: () => Iterable<Worker>,
  logger: FastifyBaseLogger,
): (worker: Worker, message: unknown) => void {
  const reply = (worker: Worker, id: number | undefined, result: unknown): void => {
    if (worker.isConnected()) worker.send({ agora: KIND, op: 'reply', id, result });
  };
  const fail = (worker: Worker, id: number | undefined, err: unknown): void => {
    const error = err instanceof Error ? err.message : String(err);
    if (worker.isConnected()) worker.send({ agora: KIND, op: 'reply', id, error });
  };
  return (worker, message) => {
    if (!isAgoraMessage(message, KIND)) return;
    const { id } = message;
    const topic = String(message.topic);
    let answer: Promise<unknown>;
    switch (message.op) {
      case 'publish':
        answer = bus.publish(topic, String(message.type), message.data).then((event) => {
          // The publisher learns its event's offset from the event itself, in order with the rest.
          for (const w of workers()) {
            if (w.isConnected())
              w.send({ agora: KIND, op: 'event', event, ref: message.ref, from: message.from });
          }
          return null;
        });
        break;
      case 'latest':
        answer = bus.latest(topic);
        break;
      case 'history':
        answer = bus.history(
          topic,
          Number(message.after),
          typeof message.epoch === 'string' ? message.epoch : undefined,
        );
        break;
      case 'ping':
        answer = bus.ping().then(() => null);
        break;
      default:
        logger.warn({ op: message.op }, 'cluster bus: unknown request');
        return;
    }
    answer.then(
      (result) => {
        reply(worker, id, result);
      },
      (err: unknown) => {
        fail(worker, id, err);
      },
    );
  };
}
