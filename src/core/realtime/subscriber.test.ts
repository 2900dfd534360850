import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createMemoryBus } from '../bus/memory.js';
import type { Bus, BusEvent, HistoryPage } from '../bus/types.js';
import { isValidTopic } from '../bus/types.js';
import { createTopicSubscriber, formatCursor, parseCursor } from './subscriber.js';

const logger = pino({ level: 'silent' });

describe('topic subscriber', () => {
  it('replays missed events then continues live without a gap or a duplicate', async () => {
    const inner = createMemoryBus({ history: 100, logger });
    for (let i = 1; i <= 10; i++) await inner.publish('t', 'x', i);
    // A bus whose history read is slow: events published meanwhile must be buffered, not lost.
    let releaseHistory: () => void = () => undefined;
    const bus: Bus = {
      ...inner,
      async history(topic: string, after: number): Promise<HistoryPage> {
        const page = await inner.history(topic, after);
        await new Promise<void>((resolve) => {
          releaseHistory = resolve;
        });
        return page;
      },
    };
    const got: number[] = [];
    const sub = createTopicSubscriber({
      bus,
      deliver: (e) => got.push(e.offset),
      onGap: () => undefined,
    });
    const added = sub.add(['t'], { t: 4 });
    await inner.publish('t', 'x', 11); // while history is being read
    await inner.publish('t', 'x', 12);
    releaseHistory();
    await added;
    await inner.publish('t', 'x', 13);
    expect(got).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(sub.cursor()).toEqual({ t: 13 });
  });

  it('starts live at the current offset when no cursor is given', async () => {
    const bus = createMemoryBus({ history: 100, logger });
    await bus.publish('t', 'x', 1);
    const got: BusEvent[] = [];
    const sub = createTopicSubscriber({ bus, deliver: (e) => got.push(e), onGap: () => undefined });
    expect(await sub.add(['t'])).toEqual({ t: 1 });
    await bus.publish('t', 'x', 2);
    expect(got.map((e) => e.offset)).toEqual([2]);
  });

  it('reports a gap when the history no longer holds what was missed', async () => {
    const bus = createMemoryBus({ history: 3, logger });
    for (let i = 1; i <= 10; i++) await bus.publish('t', 'x', i);
    const gaps: unknown[] = [];
    const got: number[] = [];
    const sub = createTopicSubscriber({
      bus,
      deliver: (e) => got.push(e.offset),
      onGap: (t, info) => gaps.push({ t, ...info }),
    });
    await sub.add(['t'], { t: 2 });
    expect(gaps).toEqual([{ t: 't', after: 2, latest: 10 }]);
    expect(got).toEqual([8, 9, 10]);
  });

  it('stops delivering a removed topic and everything after close', async () => {
    const bus = createMemoryBus({ history: 3, logger });
    const got: string[] = [];
    const sub = createTopicSubscriber({
      bus,
      deliver: (e) => got.push(e.topic),
      onGap: () => undefined,
    });
    await sub.add(['a', 'b']);
    sub.remove(['a']);
    await bus.publish('a', 'x', 1);
    await bus.publish('b', 'x', 1);
    sub.close();
    await bus.publish('b', 'x', 2);
    expect(got).toEqual(['b']);
  });
});

describe('cursor text', () => {
  it('round-trips and ignores malformed parts', () => {
    const text = formatCursor({ 'product.3': 12, 'products.new': 4 });
    expect(text).toBe('product.3=12&products.new=4');
    expect(parseCursor(text, isValidTopic)).toEqual({ 'product.3': 12, 'products.new': 4 });
    expect(parseCursor('a=1&b=x&=3&c=-1&bad topic=2&d=5', isValidTopic)).toEqual({ a: 1, d: 5 });
    expect(parseCursor(undefined, isValidTopic)).toEqual({});
  });
});
