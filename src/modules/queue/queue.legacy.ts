/**
 * The original web client's live board (`/update`): unnamed SSE messages of one line each,
 * `update-append <code> <position>` (a token joined the line at that 1-based position),
 * `update-remove` (the first token left the line) and `update-redtokens <codes…> ` (the codes past
 * the 64 shown, after a reload). Its board is the waiting line, head first; it can only append at
 * the end and remove the first, so any other change is sent as a redraw: every shown token
 * removed, then the line appended again.
 */
import type { BusEvent } from '../../core/bus/types.js';
import { isRecord } from '../../core/records.js';

const message = (line: string): string => `data: ${line}\n\n`;
const append = (code: string, position: number): string =>
  message(`update-append ${code} ${position}`);
const REMOVE = message('update-remove');

/** One connection's view of the line, which the client mirrors; each method returns frames. */
export interface LegacyBoard {
  /** The whole line, as appends. */
  start(): string;
  /** What one queue event changes on the client's board ('' for nothing). */
  event(event: BusEvent): string;
}

export function createLegacyBoard(initial: readonly string[]): LegacyBoard {
  const line = [...initial];
  const appendAll = (): string => line.map((code, i) => append(code, i + 1)).join('');

  function removed(code: string): string {
    const index = line.indexOf(code);
    if (index < 0) return '';
    if (index === 0) {
      line.shift();
      return REMOVE;
    }
    const before = line.length;
    line.splice(index, 1);
    return REMOVE.repeat(before) + appendAll();
  }

  return {
    start: appendAll,
    event(event) {
      const data = isRecord(event.data) ? event.data : {};
      const code = typeof data.token === 'string' ? data.token : null;
      if (code === null) return '';
      switch (event.type) {
        case 'token-issued':
          // Already shown when the snapshot was read after it was issued.
          if (line.includes(code)) return '';
          line.push(code);
          return append(code, line.length);
        case 'serving-started':
          // The head claimed its picture: it leaves the line.
          return line[0] === code ? removed(code) : '';
        case 'token-removed':
          // A token being viewed is not on the board, nor is its code (reused at once).
          return data.from === 'serving' || data.reason === 'used' ? '' : removed(code);
        default:
          return '';
      }
    },
  };
}
