/**
 * The bus for several nodes: Redis keeps each topic's offset counter and bounded history, and
 * one pub/sub channel carries every event to every node, which hands it to its local listeners.
 *
 * Publishing is one Lua script (increment the offset, append to the history, trim it, publish),
 * so offsets are issued and delivered in the same order on every node.
 */
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import type { Bus, BusEvent, HistoryPage, Listener, Subscription } from './types.js';

export interface RedisBusOptions {
  url: string;
  /** Events kept per topic. */
  history: number;
  /** Prefix of every key and of the channel (several installations can share one Redis). */
  prefix: string;
  logger: FastifyBaseLogger;
  now?: () => Date;
}

// KEYS[1] offset counter, KEYS[2] history list; ARGV: channel, history size, JSON without offset.
const PUBLISH_SCRIPT = `
local offset = redis.call('INCR', KEYS[1])
local event = string.sub(ARGV[3], 1, -2) .. ',"offset":' .. offset .. '}'
local keep = tonumber(ARGV[2])
if keep > 0 then
  redis.call('RPUSH', KEYS[2], event)
  redis.call('LTRIM', KEYS[2], -keep, -1)
end
redis.call('PUBLISH', ARGV[1], event)
return offset
`;

function isBusEvent(value: unknown): value is BusEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.topic === 'string' &&
    typeof v.offset === 'number' &&
    typeof v.type === 'string' &&
    typeof v.at === 'string'
  );
}

export async function createRedisBus(options: RedisBusOptions): Promise<Bus> {
  const { logger, prefix } = options;
  const now = options.now ?? (() => new Date());
  const channel = `${prefix}bus:events`;
  const seqKey = (topic: string): string => `${prefix}bus:seq:${topic}`;
  const historyKey = (topic: string): string => `${prefix}bus:history:${topic}`;
  const listeners = new Map<string, Set<Listener>>();

  const connect = (role: string): Redis => {
    const client = new Redis(options.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 2,
      enableAutoPipelining: true,
    });
    client.on('error', (err: Error) => {
      logger.warn({ err, role }, 'redis bus: connection error');
    });
    return client;
  };
  const commands = connect('commands');
  const subscriber = connect('subscriber');
  await Promise.all([commands.connect(), subscriber.connect()]);
  commands.defineCommand('agoraPublish', { numberOfKeys: 2, lua: PUBLISH_SCRIPT });

  subscriber.on('message', (_channel: string, text: string) => {
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch {
      logger.error({ text: text.slice(0, 200) }, 'redis bus: unreadable event');
      return;
    }
    if (!isBusEvent(event)) return;
    for (const listener of listeners.get(event.topic) ?? []) {
      try {
        listener(event);
      } catch (err) {
        logger.error({ err, topic: event.topic }, 'bus listener failed');
      }
    }
  });
  await subscriber.subscribe(channel);

  const parse = (items: string[]): BusEvent[] =>
    items.flatMap((text) => {
      try {
        const event: unknown = JSON.parse(text);
        return isBusEvent(event) ? [event] : [];
      } catch {
        return [];
      }
    });

  const runPublish = commands as Redis & {
    agoraPublish(
      seq: string,
      history: string,
      channel: string,
      keep: number,
      json: string,
    ): Promise<number>;
  };

  return {
    kind: 'redis',
    async publish<T>(topic: string, type: string, data: T): Promise<BusEvent<T>> {
      const at = now().toISOString();
      // The script appends the offset to this JSON object: topic, type, data and at come first.
      const json = JSON.stringify({ topic, type, data, at });
      const offset = await runPublish.agoraPublish(
        seqKey(topic),
        historyKey(topic),
        channel,
        options.history,
        json,
      );
      return { topic, offset, type, data, at };
    },

    subscribe(topic: string, listener: Listener): Subscription {
      let set = listeners.get(topic);
      if (!set) {
        set = new Set();
        listeners.set(topic, set);
      }
      set.add(listener);
      return {
        close() {
          set.delete(listener);
          if (set.size === 0) listeners.delete(topic);
        },
      };
    },

    async latest(topic: string): Promise<number> {
      return Number((await commands.get(seqKey(topic))) ?? 0);
    },

    async history(topic: string, after: number): Promise<HistoryPage> {
      const [latestText, items] = await Promise.all([
        commands.get(seqKey(topic)),
        commands.lrange(historyKey(topic), 0, -1),
      ]);
      const latest = Number(latestText ?? 0);
      const retained = parse(items);
      if (after > latest) return { events: retained, complete: false, latest };
      const oldest = retained[0]?.offset ?? latest + 1;
      return {
        events: retained.filter((e) => e.offset > after),
        complete: oldest <= after + 1,
        latest,
      };
    },

    async ping(): Promise<void> {
      await commands.ping();
      if (subscriber.status !== 'ready')
        throw new Error(`redis subscriber is ${subscriber.status}`);
    },

    async close(): Promise<void> {
      listeners.clear();
      await Promise.allSettled([subscriber.quit(), commands.quit()]);
    },
  };
}
