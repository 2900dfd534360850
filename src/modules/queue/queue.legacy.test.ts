import { describe, expect, it } from 'vitest';
import type { BusEvent } from '../../core/bus/types.js';
import { createLegacyBoard } from './queue.legacy.js';

const event = (type: string, data: Record<string, unknown>): BusEvent => ({
  topic: 'queue',
  offset: 0,
  epoch: 'e',
  type,
  data,
  at: '2030-01-01T00:00:00.000Z',
});
/** The message lines of some frames. */
const lines = (frames: string): string[] =>
  frames
    .split('\n\n')
    .filter(Boolean)
    .map((f) => f.replace(/^data: /, ''));

describe("the original client's board lines", () => {
  it('sends the line as appends, then a new token at its position and the head leaving', () => {
    const board = createLegacyBoard(['A00', 'A01']);
    expect(lines(board.start())).toEqual(['update-append A00 1', 'update-append A01 2']);
    expect(lines(board.event(event('token-issued', { token: 'A02', position: 3 })))).toEqual([
      'update-append A02 3',
    ]);
    expect(lines(board.event(event('serving-started', { token: 'A00' })))).toEqual([
      'update-remove',
    ]);
    expect(
      lines(
        board.event(event('token-removed', { token: 'A01', reason: 'expired', from: 'waiting' })),
      ),
    ).toEqual(['update-remove']);
  });

  it('redraws the line when a token leaves from the middle', () => {
    const board = createLegacyBoard(['A00', 'A01', 'A02']);
    const frames = board.event(
      event('token-removed', { token: 'A01', reason: 'left', from: 'waiting' }),
    );
    expect(lines(frames)).toEqual([
      'update-remove',
      'update-remove',
      'update-remove',
      'update-append A00 1',
      'update-append A02 2',
    ]);
  });

  it('ignores what is not on the board: viewings ending, a reused code, repeats', () => {
    const board = createLegacyBoard(['A00']);
    expect(board.event(event('token-issued', { token: 'A00', position: 1 }))).toBe('');
    expect(
      board.event(event('token-removed', { token: 'A00', reason: 'used', from: 'serving' })),
    ).toBe('');
    expect(board.event(event('serving-ended', { token: 'A00' }))).toBe('');
    expect(board.event(event('head-changed', { token: 'A00' }))).toBe('');
    expect(board.event(event('serving-started', { token: 'B00' }))).toBe('');
    expect(
      board.event(event('token-removed', { token: 'C00', reason: 'left', from: 'waiting' })),
    ).toBe('');
  });
});
