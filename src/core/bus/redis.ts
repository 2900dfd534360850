/**
 * The bus for several nodes: Redis keeps each topic's offset counter and bounded history, and
 * one pub/sub channel carries every event to every node, which hands it to its local listeners.
 *
 * Publishing is one Lua script (increment the offset, append to the history, trim it, publish),
 * so offsets are issued and delivered in the same order on every node.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { redactUrl } from '../config.js';
import { EXIT_DEPENDENCY, StartupError } from '../errors.js';
import { within } from '../timeout.js';
import { createAnnouncer } from './announce.js';
import { LocalListeners } from './listeners.js';
import { historyPage, type Bus, type BusEvent } from './types.js';

export interface RedisBusOptions {
  url: string;
  /** Events kept per topic. */
  history: number;
  /** Prefix of every key and of the channel (several installations can share one Redis). */
  prefix: string;
  logger: FastifyBaseLogger;
  /** Longest wait for Redis at start, and for each connection attempt. */
  connectTimeoutMs: number;
  /** Longest a command may take; past it the connection is presumed frozen and replaced. */
  commandTimeoutMs: number;
  now?: () => Date;
}

/** How often both connections are checked (a frozen one is replaced). */
const WATCH_MS = 1000;
/** Reconnection attempts back off up to this. */
const MAX_RECONNECT_DELAY_MS = 1000;

/**
 * Lua that sets `epoch` to the numbering's epoch, first naming it `candidate` when there is
 * none: a Redis restarted without persistence has lost its counters, and whichever node touches
 * it first names the new epoch; everyone else reads it.
 */
const ensureEpoch = (key: string, candidate: string): string => `
local epoch = redis.call('GET', ${key})
if not epoch then
  redis.call('SET', ${key}, ${candidate})
  epoch = ${candidate}
end`;

// KEYS: offset counter, history list, epoch; ARGV: channel, history size, JSON without offset
// and epoch, candidate epoch. Returns {offset, epoch}.
const PUBLISH_SCRIPT = `${ensureEpoch('KEYS[3]', 'ARGV[4]')}
local offset = redis.call('INCR', KEYS[1])
local event = string.sub(ARGV[3], 1, -2) .. ',"offset":' .. offset .. ',"epoch":"' .. epoch .. '"}'
local keep = tonumber(ARGV[2])
if keep > 0 then
  redis.call('RPUSH', KEYS[2], event)
  redis.call('LTRIM', KEYS[2], -keep, -1)
end
redis.call('PUBLISH', ARGV[1], event)
return {offset, epoch}
`;

// KEYS: offset counter, epoch, history list; ARGV: candidate epoch, 1 to include the history.
// Returns {offset, epoch, history}.
const POSITION_SCRIPT = `${ensureEpoch('KEYS[2]', 'ARGV[1]')}
local offset = tonumber(redis.call('GET', KEYS[1]) or '0')
local history = {}
if ARGV[2] == '1' then history = redis.call('LRANGE', KEYS[3], 0, -1) end
return {offset, epoch, history}
`;

function isBusEvent(value: unknown): value is BusEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.topic === 'string' &&
    typeof v.offset === 'number' &&
    typeof v.epoch === 'string' &&
    typeof v.type === 'string' &&
    typeof v.at === 'string'
  );
}

/**
 * Connects to Redis and returns the bus.
 * @throws StartupError (exit code 2) when Redis does not answer within `connectTimeoutMs`.
 */
export async function createRedisBus(options: RedisBusOptions): Promise<Bus> {
  const { logger, prefix } = options;
  const now = options.now ?? (() => new Date());
  const channel = `${prefix}bus:events`;
  const seqKey = (topic: string): string => `${prefix}bus:seq:${topic}`;
  const historyKey = (topic: string): string => `${prefix}bus:history:${topic}`;
  const listeners = new LocalListeners(logger);

  const connect = (role: string): Redis => {
    const client = new Redis(options.url, {
      lazyConnect: true,
      connectTimeout: options.connectTimeoutMs,
      commandTimeout: options.commandTimeoutMs,
      // While disconnected, commands fail at once instead of waiting in a queue; a command cut
      // off by a lost connection is not sent again (a publish might then happen twice).
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt: number) => Math.min(50 * 2 ** attempt, MAX_RECONNECT_DELAY_MS),
      keepAlive: 10_000,
      enableAutoPipelining: true,
    });
    client.on('error', (err: Error) => {
      logger.warn({ err: err.message, role }, 'redis bus: connection error');
    });
    return client;
  };
  const commands = connect('commands');
  const subscriber = connect('subscriber');
  const giveUp = (): void => {
    commands.disconnect();
    subscriber.disconnect();
  };
  try {
    await within(
      Promise.all([commands.connect(), subscriber.connect()]),
      options.connectTimeoutMs,
      'redis',
    );
    await within(subscriber.subscribe(channel), options.connectTimeoutMs, 'redis subscribe');
  } catch (err) {
    giveUp();
    throw new StartupError(
      `Redis at ${redactUrl(options.url)} is unreachable: ${err instanceof Error ? err.message : String(err)}`,
      EXIT_DEPENDENCY,
      { cause: err },
    );
  }
  commands.defineCommand('agoraPublish', { numberOfKeys: 3, lua: PUBLISH_SCRIPT });
  commands.defineCommand('agoraPosition', { numberOfKeys: 3, lua: POSITION_SCRIPT });
  const epochKey = `${prefix}bus:epoch`;
  // What this node proposes as the epoch, should the numbering be new.
  const candidateEpoch = randomBytes(6).toString('base64url');

  subscriber.on('message', (_channel: string, text: string) => {
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch {
      logger.error({ text: text.slice(0, 200) }, 'redis bus: unreadable event');
      return;
    }
    if (!isBusEvent(event)) return;
    if (held) held.push(event);
    else listeners.deliver(event);
  });
  // Events published while this node's subscription was down never reach it: every listener
  // hears of the gap when the connection is lost, and again once it is back (ioredis subscribes
  // again by itself) for what went by meanwhile.
  //
  // "Back" means subscribed, not connected: ioredis is ready, and says so, before it sends its
  // SUBSCRIBE again, so a gap told at `ready` could come before events that were missed after
  // it. This node subscribes once more itself (first, since the handler runs before ioredis
  // sends its own) and tells the gap when Redis confirms; events that arrive meanwhile, in the
  // same read as the confirmation, are held and delivered after the gap.
  /** Set by `close()`: connections that end then are not losses. */
  let closing = false;
  let subscriptionLost = false;
  /** Events received while a subscription is being confirmed; null otherwise. */
  let held: BusEvent[] | null = null;
  /** Which `ready` a confirmation belongs to: one from before a later loss is stale. */
  let attempt = 0;
  subscriber.on('close', () => {
    held = null;
    attempt++;
    if (subscriptionLost || closing) return;
    subscriptionLost = true;
    logger.warn('redis bus: subscription lost; subscribers get a gap');
    listeners.gapAll();
  });
  subscriber.on('ready', () => {
    if (!subscriptionLost) return;
    subscriptionLost = false;
    held = [];
    const mine = ++attempt;
    subscriber.subscribe(channel).then(
      () => {
        if (mine !== attempt) return;
        const missed = held ?? [];
        held = null;
        logger.info('redis bus: subscription back; subscribers get a gap for what went by');
        listeners.gapAll();
        for (const event of missed) listeners.deliver(event);
      },
      (err: unknown) => {
        // The connection went again: its `close` told the gap, and `ready` will try again.
        if (mine !== attempt) return;
        held = null;
        logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'redis bus: could not subscribe again',
        );
      },
    );
  });

  // A connection can freeze without closing (a host that stopped answering): a ping that times
  // out replaces it, rather than wait minutes for TCP to give up.
  let watching = false;
  const watch = async (client: Redis, role: string): Promise<void> => {
    if (client.status !== 'ready') return;
    try {
      await client.ping();
    } catch (err) {
      if (closing) return;
      logger.warn(
        { role, err: err instanceof Error ? err.message : String(err) },
        'redis bus: no answer; reconnecting',
      );
      client.disconnect(true);
    }
  };
  const watchdog = setInterval(() => {
    if (watching) return;
    watching = true;
    void Promise.all([watch(commands, 'commands'), watch(subscriber, 'subscriber')]).finally(() => {
      watching = false;
    });
  }, WATCH_MS);
  watchdog.unref();

  const parse = (items: string[]): BusEvent[] =>
    items.flatMap((text) => {
      try {
        const event: unknown = JSON.parse(text);
        return isBusEvent(event) ? [event] : [];
      } catch {
        return [];
      }
    });

  const scripts = commands as Redis & {
    agoraPublish(
      seq: string,
      history: string,
      epoch: string,
      channel: string,
      keep: number,
      json: string,
      candidate: string,
    ): Promise<[number, string]>;
    agoraPosition(
      seq: string,
      epoch: string,
      history: string,
      candidate: string,
      withHistory: '0' | '1',
    ): Promise<[number, string, string[]]>;
  };

  async function publish<T>(topic: string, type: string, data: T): Promise<BusEvent<T>> {
    const at = now().toISOString();
    // The script appends the offset and epoch to this JSON object: topic, type, data, at first.
    const json = JSON.stringify({ topic, type, data, at });
    const [offset, epoch] = await scripts.agoraPublish(
      seqKey(topic),
      historyKey(topic),
      epochKey,
      channel,
      options.history,
      json,
      candidateEpoch,
    );
    return { topic, offset, epoch, type, data, at };
  }

  // A publish that failed leaves a hole the other nodes cannot see: their subscribers would go
  // from offset n to n+1 without the lost event. Using its offset up (one INCR, once Redis
  // answers again) turns the loss into a jump, which every subscriber reports as a gap. The
  // announcement waits for it: answered sooner, the change's client could make another change
  // through a node that still reaches Redis, whose event would take the unused offset, and the
  // loss would go unseen. It waits at most `gapWaitMs` past the failure: one reconnection at
  // the slowest backoff, then the INCR.
  const gapWaitMs = MAX_RECONNECT_DELAY_MS + options.commandTimeoutMs;
  /** Topics with an event whose offset is still to be used up, and the announcements waiting. */
  const unpublished = new Map<string, (() => void)[]>();
  const burn = async (): Promise<void> => {
    for (const topic of [...unpublished.keys()]) {
      const waiting = unpublished.get(topic);
      if (!waiting) continue; // Taken by a burn under way.
      // Only the failures told before this INCR is sent are covered by it.
      unpublished.delete(topic);
      try {
        await commands.incr(seqKey(topic));
      } catch {
        // Still down: tried again when the connection is back.
        unpublished.set(topic, [...waiting, ...(unpublished.get(topic) ?? [])]);
        return;
      }
      for (const done of waiting) done();
      logger.info({ topic }, 'redis bus: the offset of an unpublished event is used up');
    }
  };
  commands.on('ready', () => {
    void burn();
  });
  const holeMarked = (topic: string): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        logger.warn(
          { topic, waited_ms: gapWaitMs },
          'redis bus: a change is answered before its lost event is marked; until it is, clients of other nodes may miss it without a gap',
        );
        resolve();
      }, gapWaitMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      unpublished.set(topic, [...(unpublished.get(topic) ?? []), done]);
      void burn();
    });
  const announcer = createAnnouncer(publish, listeners, logger, holeMarked);

  return {
    kind: 'redis',
    publish,
    announce: announcer.announce,

    subscribe: (topic, listener, onGap) => listeners.add(topic, listener, onGap),

    async latest(topic: string) {
      const [offset, epoch] = await scripts.agoraPosition(
        seqKey(topic),
        epochKey,
        historyKey(topic),
        candidateEpoch,
        '0',
      );
      return { epoch, offset };
    },

    async history(topic: string, after: number, seenEpoch?: string) {
      const [latest, epoch, items] = await scripts.agoraPosition(
        seqKey(topic),
        epochKey,
        historyKey(topic),
        candidateEpoch,
        '1',
      );
      // Only events of the current epoch count (a list left from before would not be).
      const retained = parse(items).filter((e) => e.epoch === epoch);
      return historyPage(retained, latest, epoch, after, seenEpoch);
    },

    async ping(): Promise<void> {
      await commands.ping();
      if (subscriber.status !== 'ready')
        throw new Error(`redis subscriber is ${subscriber.status}`);
    },

    async close(): Promise<void> {
      await announcer.settled();
      closing = true;
      clearInterval(watchdog);
      listeners.clear();
      const quit = Promise.allSettled([subscriber.quit(), commands.quit()]);
      // A frozen Redis never answers QUIT: stop waiting and drop the connections.
      await within(quit, options.commandTimeoutMs, 'redis quit').catch(() => undefined);
      giveUp();
    },
  };
}
