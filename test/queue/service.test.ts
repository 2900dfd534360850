import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../src/core/bus/memory.js';
import type { BusEvent } from '../../src/core/bus/types.js';
import { QUEUE_TOPIC, createQueueService } from '../../src/modules/queue/queue.service.js';
import { buildTestApp, dialects, testLogger, type TestApp } from '../helper.js';
import { queueDb, wipe } from './helpers.js';

const S = 1000;
const timing = { claimWindowMs: 60 * S, viewWindowMs: 60 * S, banMs: 3600 * S };

/** A service on the app's database with its own clock and bus (events recorded). */
function harness(t: TestApp, start: number) {
  const clock = { now: start };
  const bus = createMemoryBus({ history: 10_000, logger: testLogger() });
  const events: BusEvent[] = [];
  bus.subscribe(QUEUE_TOPIC, (e) => events.push(e));
  const make = () =>
    createQueueService({
      db: queueDb(t),
      bus,
      timing,
      clock: () => clock.now,
      picture: () => Promise.resolve('/images/cat'),
    });
  return { clock, events, service: make(), make };
}

describe.each(dialects())('queue rules on %s (injected clock)', (dialect) => {
  let t: TestApp;
  let h: ReturnType<typeof harness>;
  const t0 = Date.UTC(2030, 0, 1);
  beforeAll(async () => {
    t = await buildTestApp({
      dialect,
      config: { queue: { sweep_ms: 600_000, demo_pictures: false } },
    });
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await wipe(t);
    h = harness(t, t0);
  });

  const issue = async (ip = '10.0.0.1') => {
    const o = await h.service.issue(ip);
    if (o.kind !== 'issued') throw new Error(`not issued: ${o.kind}`);
    return o;
  };

  it('issues codes in order with positions; the head expires after its window, the next one gets a full window', async () => {
    const [a, b, c] = [await issue(), await issue(), await issue()];
    expect([a.token, b.token, c.token]).toEqual(['A00', 'A01', 'A02']);
    expect([a.position, b.position, c.position]).toEqual([1, 2, 3]);
    expect(await h.service.status('A00')).toMatchObject({
      state: 'head',
      deadline: new Date(t0 + 60 * S).toISOString(),
      estimatedWaitS: 0,
    });
    // A02 waits at most for A00's window and A01's: 120 s, 119 once a second has passed.
    expect(await h.service.status('A02')).toMatchObject({ position: 3, estimatedWaitS: 120 });
    h.clock.now = t0 + S;
    expect(await h.service.status('A02')).toMatchObject({ position: 3, estimatedWaitS: 119 });

    h.clock.now = t0 + 60 * S - 1;
    expect((await h.service.board()).head).toBe('A00');
    // Nobody calls anything for a long time: the line moved on its own, one window per head.
    h.clock.now = t0 + 150 * S;
    const board = await h.service.board();
    expect(board).toMatchObject({ head: 'A02', waiting: [], length: 1 });
    expect(board.deadline).toBe(new Date(t0 + 180 * S).toISOString());
    expect(await h.service.status('A00')).toMatchObject({
      state: 'expired',
      position: null,
      estimatedWaitS: null,
    });
    const removed = h.events.filter((e) => e.type === 'token-removed').map((e) => e.data);
    expect(removed).toEqual([
      { token: 'A00', reason: 'expired', from: 'waiting' },
      { token: 'A01', reason: 'expired', from: 'waiting' },
    ]);
  });

  it('freezes the next head’s clock while a picture is viewed; deadlines survive a restart', async () => {
    const a = await issue();
    await issue();
    h.clock.now = t0 + 10 * S;
    const claimed = await h.service.claim('A00', a.secret, '10.0.0.1');
    expect(claimed).toEqual({ kind: 'claimed', imageUrl: '/images/cat', viewUntil: t0 + 70 * S });
    // A01 became head at 10 s, but its clock only runs once the viewing ends at 70 s.
    expect(await h.service.status('A01')).toMatchObject({
      state: 'head',
      deadline: new Date(t0 + 130 * S).toISOString(),
    });
    expect(await h.service.status('A00')).toMatchObject({ state: 'serving' });
    // A restarted node (a new service on the same database) computes the same deadlines.
    const restarted = h.make();
    h.clock.now = t0 + 129 * S;
    expect((await restarted.board()).head).toBe('A01');
    expect(await restarted.status('A00')).toMatchObject({ state: 'used' });
    h.clock.now = t0 + 130 * S;
    expect((await restarted.board()).head).toBeNull();
    expect(await restarted.status('A01')).toMatchObject({ state: 'expired' });
  });

  it('says "not your turn" without penalty, and bans cheaters until the ban expires or is lifted', async () => {
    await issue();
    const b = await issue();
    const early = await h.service.claim('A01', b.secret, '10.0.0.2');
    expect(early).toEqual({ kind: 'not-your-turn', position: 2, retryAfterS: 60 });
    expect(await h.service.banOf('10.0.0.2')).toBeNull();

    expect(await h.service.claim('Q42', 'x', '10.0.0.3')).toMatchObject({ kind: 'cheater' });
    expect(await h.service.issue('10.0.0.3')).toMatchObject({
      kind: 'banned',
      until: t0 + 3600 * S,
    });
    expect(await h.service.claim('A01', 'wrong', '10.0.0.4')).toMatchObject({
      kind: 'cheater',
      reason: 'wrong secret for A01',
    });
    expect((await h.service.bans()).map((x) => x.ip).sort()).toEqual(['10.0.0.3', '10.0.0.4']);
    expect(await h.service.unban('10.0.0.4')).toBe(true);
    expect(await h.service.banOf('10.0.0.4')).toBeNull();
    h.clock.now = t0 + 3600 * S;
    expect(await h.service.banOf('10.0.0.3')).toBeNull();
  });

  it('bans for a code not in play; its own ended token tells its owner so, without a ban; an empty line is 409', async () => {
    expect(await h.service.claim('A00', 'x', '10.0.0.9')).toEqual({ kind: 'empty' });
    const a = await issue();
    await h.service.claim('A00', a.secret, '10.0.0.1');
    h.clock.now = t0 + 61 * S; // viewing over: A00 is used
    const b = await issue('10.0.0.5');
    expect(b.token).toBe('A01');
    // The owner, with the right secret: told it has ended, not banned.
    expect(await h.service.claim('A00', a.secret, '10.0.0.1')).toEqual({ kind: 'ended' });
    expect(await h.service.leave('A00', a.secret, '10.0.0.1')).toEqual({ kind: 'ended' });
    expect(await h.service.banOf('10.0.0.1')).toBeNull();
    // Someone else presenting the used code: a cheat.
    expect(await h.service.claim('A00', 'guess', '10.0.0.6')).toMatchObject({ kind: 'cheater' });
    expect(await h.service.banOf('10.0.0.6')).not.toBeNull();
  });

  it('never bans for leaving: a wrong secret is refused, the line is unchanged', async () => {
    await issue();
    expect(await h.service.leave('A00', 'wrong', '10.0.0.7')).toMatchObject({
      kind: 'not-owner',
    });
    expect(await h.service.leave('B17', 'wrong', '10.0.0.7')).toMatchObject({
      kind: 'not-owner',
    });
    expect(await h.service.banOf('10.0.0.7')).toBeNull();
    expect((await h.service.board()).head).toBe('A00');
  });

  it('frees a code as soon as its token is claimed: the viewer keeps its picture, the code serves the next token', async () => {
    const a = await issue();
    expect(await h.service.claim('A00', a.secret, '10.0.0.1')).toMatchObject({
      kind: 'claimed',
    });
    // The cycle comes back to A00 while its first holder is still viewing.
    await queueDb(t).updateTable('queue_state').set({ next_index: 0 }).execute();
    const again = await issue('10.0.0.2');
    expect(again.token).toBe('A00');
    // Both work with their own secret: the viewer reloads its picture, the new one is head.
    expect(await h.service.claim('A00', a.secret, '10.0.0.1')).toMatchObject({
      kind: 'claimed',
      imageUrl: '/images/cat',
    });
    expect(await h.service.status('A00')).toMatchObject({ state: 'head' });
    expect(await h.service.claim('A00', again.secret, '10.0.0.2')).toMatchObject({
      kind: 'claimed',
    });
    expect(await h.service.banOf('10.0.0.1')).toBeNull();
    expect(await h.service.banOf('10.0.0.2')).toBeNull();
  });

  it('hands out the lowest free code first in the original’s profile', async () => {
    const compat = createQueueService({
      db: queueDb(t),
      bus: createMemoryBus({ history: 100, logger: testLogger() }),
      timing,
      clock: () => h.clock.now,
      picture: () => Promise.resolve('/images/cat'),
      lowestFreeCode: true,
    });
    const taken = [];
    for (let i = 0; i < 6; i++) taken.push(await compat.issue('10.0.0.1'));
    const a = taken[0];
    if (a?.kind !== 'issued') throw new Error('not issued');
    expect(await compat.claim('A00', a.secret, '10.0.0.1')).toMatchObject({ kind: 'claimed' });
    const next = [await compat.issue('10.0.0.1'), await compat.issue('10.0.0.1')];
    expect([...taken, ...next].map((o) => (o.kind === 'issued' ? o.token : o.kind))).toEqual([
      'A00',
      'A01',
      'A02',
      'A03',
      'A04',
      'A05',
      'A00',
      'A06',
    ]);
    // Requests that arrive together share one batch: each still gets the lowest code free then.
    for (const i of [1, 3]) {
      const o = taken[i];
      if (o?.kind !== 'issued') throw new Error('not issued');
      expect(await compat.leave(o.token, o.secret, '10.0.0.1')).toEqual({ kind: 'left' });
    }
    const together = await Promise.all([0, 1, 2].map(() => compat.issue('10.0.0.2')));
    expect(together.map((o) => (o.kind === 'issued' ? o.token : o.kind)).sort()).toEqual([
      'A01',
      'A03',
      'A07',
    ]);
  });

  it('lets the owner leave; the next token becomes head at once', async () => {
    const a = await issue();
    await issue();
    h.clock.now = t0 + 5 * S;
    expect(await h.service.leave('A00', a.secret, '10.0.0.1')).toEqual({ kind: 'left' });
    expect(await h.service.status('A01')).toMatchObject({
      state: 'head',
      deadline: new Date(t0 + 65 * S).toISOString(),
    });
    expect(h.events.map((e) => e.type)).toContain('head-changed');
  });

  it('publishes each expiry exactly once when several nodes sweep together', async () => {
    await issue();
    await issue();
    const nodes = [h.make(), h.make(), h.make()];
    h.clock.now = t0 + 61 * S;
    await Promise.all(nodes.map((n) => n.sweep()));
    const removed = h.events.filter((e) => e.type === 'token-removed');
    expect(removed.map((e) => e.data)).toEqual([
      { token: 'A00', reason: 'expired', from: 'waiting' },
    ]);
    expect(
      h.events.filter(
        (e) => e.type === 'head-changed' && (e.data as { token: string }).token === 'A01',
      ),
    ).toHaveLength(1);
  });
});

describe('a full queue (SQLite)', () => {
  it('refuses the 2601st token with 503, then wraps around skipping live codes', async () => {
    const t = await buildTestApp({
      config: { queue: { sweep_ms: 600_000, demo_pictures: false } },
    });
    try {
      const h = harness(t, Date.UTC(2030, 0, 1));
      const secrets = new Map<string, string>();
      for (let i = 0; i < 2600; i++) {
        const o = await h.service.issue('10.0.0.1');
        if (o.kind !== 'issued') throw new Error(o.kind);
        secrets.set(o.token, o.secret);
      }
      expect(secrets.size).toBe(2600);
      expect(await h.service.issue('10.0.0.1')).toEqual({ kind: 'full', retryAfterS: 60 });
      await h.service.leave('A03', secrets.get('A03')!, '10.0.0.1');
      await h.service.leave('B10', secrets.get('B10')!, '10.0.0.1');
      const next = [await h.service.issue('10.0.0.1'), await h.service.issue('10.0.0.1')];
      expect(next.map((o) => (o.kind === 'issued' ? o.token : o.kind))).toEqual(['A03', 'B10']);
      expect(await h.service.issue('10.0.0.1')).toMatchObject({ kind: 'full' });
    } finally {
      await t.close();
    }
  });
});
