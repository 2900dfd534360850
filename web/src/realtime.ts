/**
 * A browser WebSocket client for Agora's `/ws` gateway that survives dropped connections: it
 * reconnects with backoff and resubscribes from the last offset it saw of every topic, so no
 * event is missed (the server replays them); a `gap` means the history did not reach back far
 * enough and the page should reload its state.
 */

export interface RealtimeEvent {
  topic: string;
  offset: number;
  /** The numbering `offset` belongs to; a new one (the server's bus restarted) comes after a gap. */
  epoch: string;
  type: string;
  data: unknown;
  at: string;
}

export interface TopicSocketHandlers {
  onEvent(event: RealtimeEvent): void;
  onGap?(topic: string): void;
  onStatus?(status: 'connecting' | 'live' | 'offline'): void;
  /** The topics the server has confirmed, after every subscribe or unsubscribe. */
  onSubscribed?(topics: string[]): void;
}

type ServerMessage =
  | ({ op: 'event' } & RealtimeEvent)
  | { op: 'subscribed'; topics: Record<string, number>; epoch?: string }
  | { op: 'unsubscribed'; topics: string[] }
  | { op: 'gap'; topic: string }
  | { op: 'error'; code: string; message: string }
  | { op: 'pong' };

export class TopicSocket {
  private socket: WebSocket | null = null;
  private readonly topics = new Set<string>();
  private readonly cursor = new Map<string, number>();
  /** The epoch of the cursor's offsets, sent back when resubscribing. */
  private epoch: string | undefined;
  private readonly confirmed = new Set<string>();
  private retryMs = 250;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly handlers: TopicSocketHandlers,
  ) {
    this.connect();
  }

  /** Subscribes to exactly these topics (adds and removes the difference). */
  setTopics(next: Iterable<string>): void {
    const wanted = new Set(next);
    const added = [...wanted].filter((t) => !this.topics.has(t));
    const removed = [...this.topics].filter((t) => !wanted.has(t));
    for (const t of added) this.topics.add(t);
    for (const t of removed) {
      this.topics.delete(t);
      this.cursor.delete(t);
    }
    if (this.socket?.readyState !== WebSocket.OPEN) return;
    if (added.length > 0) this.send({ op: 'subscribe', topics: added });
    if (removed.length > 0) this.send({ op: 'unsubscribe', topics: removed });
  }

  close(): void {
    this.closed = true;
    this.socket?.close();
  }

  private send(message: object): void {
    this.socket?.send(JSON.stringify(message));
  }

  private connect(): void {
    this.handlers.onStatus?.('connecting');
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.retryMs = 250;
      this.handlers.onStatus?.('live');
      if (this.topics.size === 0) return;
      const from: Record<string, number> = {};
      for (const t of this.topics) {
        const offset = this.cursor.get(t);
        if (offset !== undefined) from[t] = offset;
      }
      this.send({
        op: 'subscribe',
        topics: [...this.topics],
        from,
        ...(this.epoch === undefined ? {} : { epoch: this.epoch }),
      });
    });
    socket.addEventListener('message', (message: MessageEvent<string>) => {
      const data = JSON.parse(message.data) as ServerMessage;
      if (data.op === 'event') {
        if (!this.topics.has(data.topic)) return;
        this.cursor.set(data.topic, data.offset);
        this.epoch = data.epoch;
        this.handlers.onEvent(data);
      } else if (data.op === 'subscribed') {
        // Another numbering: the offsets seen before mean nothing in it (a gap came first).
        const renumbered = data.epoch !== undefined && data.epoch !== this.epoch;
        if (data.epoch !== undefined) this.epoch = data.epoch;
        for (const [topic, offset] of Object.entries(data.topics)) {
          if (renumbered || offset > (this.cursor.get(topic) ?? -1)) this.cursor.set(topic, offset);
          this.confirmed.add(topic);
        }
        this.handlers.onSubscribed?.([...this.confirmed]);
      } else if (data.op === 'unsubscribed') {
        for (const topic of data.topics) this.confirmed.delete(topic);
        this.handlers.onSubscribed?.([...this.confirmed]);
      } else if (data.op === 'gap') {
        this.handlers.onGap?.(data.topic);
      }
    });
    socket.addEventListener('close', () => {
      this.socket = null;
      this.confirmed.clear();
      this.handlers.onSubscribed?.([]);
      if (this.closed) return;
      this.handlers.onStatus?.('offline');
      const delay = this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, 5000);
      setTimeout(() => {
        this.connect();
      }, delay);
    });
  }
}

/** `ws://host/ws` or `wss://host/ws` for the page's own server. */
export function gatewayUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}
