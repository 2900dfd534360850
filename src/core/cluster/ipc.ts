/**
 * The channel between a worker of `agora serve --workers N` and its primary: requests answered by
 * the primary (bus history, aggregated metrics), and messages the primary sends every worker (bus
 * events). Every message carries `agora: <kind>`, so that other users of the channel (prom-client's
 * own metric requests) pass by.
 */
import cluster from 'node:cluster';
import { startedAsClusterWorker } from '../config.js';

/** Whether this process is a worker of an Agora cluster (its primary relays events, metrics). */
export function isClusterWorker(): boolean {
  return cluster.isWorker && startedAsClusterWorker();
}

/** A message of the Agora protocol: its kind and an operation of that kind. */
export interface AgoraMessage {
  agora: string;
  op: string;
  /** Correlates a request with its reply. */
  id?: number;
  [field: string]: unknown;
}

export function isAgoraMessage(message: unknown, kind: string): message is AgoraMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { agora?: unknown }).agora === kind &&
    typeof (message as { op?: unknown }).op === 'string'
  );
}

export class PrimaryUnreachable extends Error {
  override name = 'PrimaryUnreachable';
}

/** Requests to the primary from a worker, each answered by one `reply` with the same id. */
export interface PrimaryChannel {
  request<T>(kind: string, op: string, fields?: Record<string, unknown>): Promise<T>;
  /** Sends without waiting for an answer; false when the primary is gone. */
  send(message: AgoraMessage): boolean;
  /** Calls `listener` for every message of `kind` from the primary that is not a reply. */
  on(kind: string, listener: (message: AgoraMessage) => void): () => void;
  /** Called once when the primary is gone (the channel closed). */
  onLost(listener: () => void): void;
}

const REQUEST_TIMEOUT_MS = 5000;

let channel: PrimaryChannel | null = null;

/** The worker's channel to its primary (one per process). */
export function primaryChannel(): PrimaryChannel {
  channel ??= openChannel();
  return channel;
}

function openChannel(): PrimaryChannel {
  let nextId = 1;
  const pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  const listeners = new Map<string, Set<(message: AgoraMessage) => void>>();
  const lost = new Set<() => void>();
  let connected = process.connected;

  process.on('message', (message: unknown) => {
    if (typeof message !== 'object' || message === null) return;
    const kind = (message as { agora?: unknown }).agora;
    if (typeof kind !== 'string' || !isAgoraMessage(message, kind)) return;
    if (message.op === 'reply' && typeof message.id === 'number') {
      const waiting = pending.get(message.id);
      if (!waiting) return;
      pending.delete(message.id);
      clearTimeout(waiting.timer);
      if (typeof message.error === 'string') waiting.reject(new Error(message.error));
      else waiting.resolve(message.result);
      return;
    }
    for (const listener of listeners.get(kind) ?? []) listener(message);
  });
  process.once('disconnect', () => {
    connected = false;
    for (const [id, waiting] of pending) {
      pending.delete(id);
      clearTimeout(waiting.timer);
      waiting.reject(new PrimaryUnreachable('the cluster primary is gone'));
    }
    for (const listener of lost) listener();
  });

  const send = (message: AgoraMessage): boolean => {
    if (!connected || !process.send) return false;
    process.send(message);
    return true;
  };

  return {
    send,
    request<T>(kind: string, op: string, fields: Record<string, unknown> = {}): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new PrimaryUnreachable(`the cluster primary did not answer ${kind} ${op}`));
        }, REQUEST_TIMEOUT_MS);
        timer.unref();
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
        if (!send({ ...fields, agora: kind, op, id })) {
          pending.delete(id);
          clearTimeout(timer);
          reject(new PrimaryUnreachable('the cluster primary is gone'));
        }
      });
    },
    on(kind, listener) {
      let set = listeners.get(kind);
      if (!set) {
        set = new Set();
        listeners.set(kind, set);
      }
      set.add(listener);
      return () => set.delete(listener);
    },
    onLost(listener) {
      if (!connected) listener();
      else lost.add(listener);
    },
  };
}
