/**
 * Checks of what live clients saw, shared by the fault and cluster suites: every acknowledged
 * change reached them, or a gap came first.
 */
import { expect } from 'vitest';
import type { SseFrame, WsClient } from './realtime-clients.js';

/** One frame a live client saw: an event (the new price it announced) or a gap. */
export type Seen = { gap: true } | { price: number };

/**
 * No silent gap: every acknowledged price (in order) reached the client, or a gap came after the
 * last price it did get and before the next one. Returns the prices missed (behind a gap).
 */
export function expectNoSilentGap(acknowledged: number[], seen: Seen[]): number[] {
  const missed: number[] = [];
  let next = 0; // index in `acknowledged` of the next price expected
  let gapSince = false;
  for (const frame of seen) {
    if ('gap' in frame) {
      gapSince = true;
      continue;
    }
    const at = acknowledged.indexOf(frame.price, next);
    if (at < 0) continue; // a change the test did not make (none here) or a repeat
    if (at > next) {
      expect(
        gapSince,
        `prices ${acknowledged.slice(next, at).join(',')} missed without a gap`,
      ).toBe(true);
      missed.push(...acknowledged.slice(next, at));
    }
    next = at + 1;
    gapSince = false;
  }
  return missed;
}

export function wsFrames(ws: WsClient): Seen[] {
  const frames: Seen[] = [];
  ws.socket.on('message', (raw: Buffer) => {
    const m = JSON.parse(raw.toString()) as { op: string; data?: { new_price?: number } };
    if (m.op === 'gap') frames.push({ gap: true });
    else if (m.op === 'event' && typeof m.data?.new_price === 'number')
      frames.push({ price: m.data.new_price });
  });
  return frames;
}

export async function setPrice(base: string, price: number, id = 1): Promise<boolean> {
  const res = await fetch(`${base}/product/${id}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ description: 'apple', price }),
  });
  await res.text();
  return res.status === 200;
}

/** What an SSE client saw, as `Seen` frames. */
export function sseSeen(frames: readonly SseFrame[]): Seen[] {
  return frames.flatMap((f): Seen[] => {
    if (f.event === 'gap') return [{ gap: true }];
    const data = (JSON.parse(f.data) as { data?: { new_price?: unknown } }).data;
    return typeof data?.new_price === 'number' ? [{ price: data.new_price }] : [];
  });
}
