import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createMemoryBus } from './memory.js';
import type { BusEvent } from './types.js';

const logger = pino({ level: 'silent' });

describe('memory bus', () => {
  it('numbers events per topic from 1, independently of other topics', async () => {
    const bus = createMemoryBus({ history: 10, logger });
    const a1 = await bus.publish('a', 't', 1);
    const b1 = await bus.publish('b', 't', 1);
    const a2 = await bus.publish('a', 't', 2);
    expect([a1.offset, b1.offset, a2.offset]).toEqual([1, 1, 2]);
    const { epoch } = await bus.latest('a');
    expect(await bus.latest('a')).toEqual({ epoch, offset: 2 });
    expect(await bus.latest('never')).toEqual({ epoch, offset: 0 });
    expect(a2.epoch).toBe(epoch);
  });

  it('delivers to every listener of the topic, in order, and stops after close', async () => {
    const bus = createMemoryBus({ history: 10, logger });
    const seen1: number[] = [];
    const seen2: number[] = [];
    const s1 = bus.subscribe('t', (e) => seen1.push(e.offset));
    bus.subscribe('t', (e) => seen2.push(e.offset));
    bus.subscribe('other', () => {
      throw new Error('must not be called');
    });
    for (let i = 0; i < 5; i++) await bus.publish('t', 'x', i);
    s1.close();
    await bus.publish('t', 'x', 5);
    expect(seen1).toEqual([1, 2, 3, 4, 5]);
    expect(seen2).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('keeps a failing listener from hurting the others', async () => {
    const bus = createMemoryBus({ history: 10, logger });
    const seen: BusEvent[] = [];
    bus.subscribe('t', () => {
      throw new Error('boom');
    });
    bus.subscribe('t', (e) => seen.push(e));
    await bus.publish('t', 'x', null);
    expect(seen).toHaveLength(1);
  });

  it('keeps a bounded history and says when it no longer reaches back far enough', async () => {
    const bus = createMemoryBus({ history: 5, logger });
    for (let i = 1; i <= 20; i++) await bus.publish('t', 'x', i);
    const recent = await bus.history('t', 17);
    expect(recent.events.map((e) => e.offset)).toEqual([18, 19, 20]);
    expect(recent.complete).toBe(true);
    const old = await bus.history('t', 3);
    expect(old.events.map((e) => e.offset)).toEqual([16, 17, 18, 19, 20]);
    expect(old.complete).toBe(false);
    const upToDate = await bus.history('t', 20);
    expect(upToDate).toEqual({ events: [], complete: true, latest: 20, epoch: upToDate.epoch });
  });

  it('treats a cursor beyond the latest offset as a restarted bus: replays all it has, incomplete', async () => {
    const bus = createMemoryBus({ history: 5, logger });
    await bus.publish('t', 'x', 1);
    const page = await bus.history('t', 99);
    expect(page.events.map((e) => e.offset)).toEqual([1]);
    expect(page.complete).toBe(false);
  });

  it('numbers afresh in a new epoch: a cursor of another epoch gets everything retained, incomplete', async () => {
    const before = createMemoryBus({ history: 5, logger });
    const seen = await before.publish('t', 'x', 1);
    const after = createMemoryBus({ history: 5, logger });
    await after.publish('t', 'x', 1);
    await after.publish('t', 'x', 2);
    const page = await after.history('t', seen.offset, seen.epoch);
    expect(page.epoch).not.toBe(seen.epoch);
    expect(page.events.map((e) => e.offset)).toEqual([1, 2]);
    expect(page.complete).toBe(false);
    expect((await after.history('t', 1, page.epoch)).complete).toBe(true);
  });

  it('refuses to publish once closed and fails its readiness ping', async () => {
    const bus = createMemoryBus({ history: 5, logger });
    await bus.close();
    await expect(bus.publish('t', 'x', 1)).rejects.toThrow(/closed/);
    await expect(bus.ping()).rejects.toThrow(/closed/);
  });
});
