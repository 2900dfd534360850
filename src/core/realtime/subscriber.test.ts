import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createMemoryBus } from '../bus/memory.js';
import type { Bus, BusEvent, GapListener, HistoryPage } from '../bus/types.js';
import { isValidTopic } from '../bus/types.js';
import { createTopicSubscriber, formatCursor, parseCursor, parseResume } from './subscriber.js';

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

/** A bus whose events the test hands over itself, offsets and epochs as it likes. */
function scriptedBus(position = { epoch: 'e1', offset: 0 }) {
  let listener: ((e: BusEvent) => void) | undefined;
  let gapListener: GapListener | undefined;
  const inner = createMemoryBus({ history: 10, logger });
  const bus: Bus = {
    ...inner,
    subscribe(_topic, l, onGap) {
      listener = l;
      gapListener = onGap;
      return { close: () => undefined };
    },
    latest: () => Promise.resolve(position),
  };
  const event = (offset: number, epoch = 'e1'): BusEvent => ({
    topic: 't',
    offset,
    epoch,
    type: 'x',
    data: offset,
    at: '',
  });
  return {
    bus,
    send: (offset: number, epoch?: string) => listener?.(event(offset, epoch)),
    gap: () => gapListener?.('t'),
  };
}

function recorder(bus: Bus) {
  const log: string[] = [];
  const sub = createTopicSubscriber({
    bus,
    deliver: (e) => log.push(`${e.epoch}:${e.offset}`),
    onGap: (_t, info) => log.push(`gap after ${info.after}`),
  });
  return { log, sub };
}

describe('topic subscriber: no silent gap', () => {
  it('reports a skipped offset (a publish lost somewhere) before the event after it', async () => {
    const s = scriptedBus({ epoch: 'e1', offset: 3 });
    const { log, sub } = recorder(s.bus);
    await sub.add(['t']);
    s.send(4);
    s.send(6);
    s.send(6);
    s.send(7);
    expect(log).toEqual(['e1:4', 'gap after 4', 'e1:6', 'e1:7']);
  });

  it('reports a new epoch (the bus numbers afresh) and delivers from it, low offsets included', async () => {
    const s = scriptedBus({ epoch: 'e1', offset: 57 });
    const { log, sub } = recorder(s.bus);
    await sub.add(['t']);
    s.send(58);
    s.send(1, 'e2');
    s.send(2, 'e2');
    expect(log).toEqual(['e1:58', 'gap after 58', 'e2:1', 'e2:2']);
    expect(sub.epoch).toBe('e2');
    expect(sub.cursor()).toEqual({ t: 2 });
  });

  it('passes on a gap the bus reports, then takes what comes as it comes', async () => {
    const s = scriptedBus({ epoch: 'e1', offset: 10 });
    const { log, sub } = recorder(s.bus);
    await sub.add(['t']);
    s.send(11);
    s.gap();
    s.send(15);
    s.send(16);
    expect(log).toEqual(['e1:11', 'gap after 11', 'e1:15', 'e1:16']);
  });

  it('tells a client resuming with offsets of another epoch of the gap, then replays the new one', async () => {
    const bus = createMemoryBus({ history: 10, logger });
    for (let i = 1; i <= 3; i++) await bus.publish('t', 'x', i);
    const { epoch } = await bus.latest('t');
    const { log, sub } = recorder(bus);
    // The client saw offset 2 of an older numbering: lower than the latest, yet not this one's.
    await sub.add(['t'], { t: 2 }, 'older');
    expect(log).toEqual(['gap after 2', `${epoch}:1`, `${epoch}:2`, `${epoch}:3`]);
    // Of this epoch, it resumes exactly.
    const again = recorder(bus);
    await again.sub.add(['t'], { t: 2 }, epoch);
    expect(again.log).toEqual([`${epoch}:3`]);
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

  it('carries the epoch under a key no topic can have', () => {
    const text = formatCursor({ 'product.3': 12 }, 'K3x9_-');
    expect(text).toBe('@=K3x9_-&product.3=12');
    expect(parseResume(text, isValidTopic)).toEqual({ from: { 'product.3': 12 }, epoch: 'K3x9_-' });
    expect(parseCursor(text, isValidTopic)).toEqual({ 'product.3': 12 });
    expect(parseResume('@=bad epoch&a=1', isValidTopic)).toEqual({ from: { a: 1 } });
  });
});
