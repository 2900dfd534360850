/**
 * The line's rules. Every change (issue, claim, leave, expiry) is one transaction that first
 * locks the `queue_state` row, so changes apply one at a time whatever the number of nodes, and
 * its events are published after the commit, exactly once. Deadlines are computed from stored
 * timestamps with an injectable clock; nothing sleeps. Expiries are applied lazily by every
 * request and by a periodic sweep that is safe on every node (it is the same transaction).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Bus } from '../../core/bus/index.js';
import type { Database } from '../../core/db/index.js';
import { dialectOf } from '../../core/db/portable.js';
import { CODE_COUNT, codeAt, CODE_PATTERN } from './queue.codes.js';
import type { TokenState } from './queue.tables.js';

export const QUEUE_TOPIC = 'queue';
const BOARD_SIZE = 64;

export interface QueueEvent {
  type: 'token-issued' | 'token-removed' | 'head-changed' | 'serving-started' | 'serving-ended';
  data: Record<string, unknown>;
}

export interface Board {
  head: string | null;
  /** When the head's turn ends (ISO), or null. */
  deadline: string | null;
  serving: string[];
  /** The codes after the head, the first 64. */
  waiting: string[];
  /** Tokens in the line, head included. */
  length: number;
}

export interface QueueTiming {
  claimWindowMs: number;
  viewWindowMs: number;
  banMs: number;
}

export interface QueueServiceDeps {
  db: Kysely<Database>;
  bus: Bus;
  timing: QueueTiming;
  /** Epoch milliseconds (tests inject one). */
  clock?: () => number;
  /** A picture URL for a successful claim, or null when none can be served. */
  picture: () => Promise<string | null>;
}

export type IssueOutcome =
  | { kind: 'issued'; token: string; secret: string; position: number; estimatedWaitS: number }
  | { kind: 'banned'; until: number }
  | { kind: 'full'; retryAfterS: number };

export type ClaimOutcome =
  | { kind: 'claimed'; imageUrl: string; viewUntil: number }
  | { kind: 'not-your-turn'; position: number; retryAfterS: number }
  | { kind: 'empty' }
  | { kind: 'cheater'; reason: string }
  | { kind: 'banned'; until: number }
  | { kind: 'no-picture' };

export type LeaveOutcome =
  { kind: 'left' } | { kind: 'cheater'; reason: string } | { kind: 'banned'; until: number };

export interface TokenStatus {
  token: string;
  state: TokenState | 'head';
  position: number | null;
  /** Head: when its turn ends; waiting: the latest its turn can start; serving: end of viewing. */
  deadline: string | null;
}

type Trx = Transaction<Database>;

interface Head {
  id: number;
  code: string;
  became_head_at: number;
}

/** What a change sees once it holds the lock: the state row and the head after expiries. */
interface Locked {
  nextIndex: number;
  viewingUntil: number;
  head: Head | null;
}

const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');
const ms = (v: number | string | null): number => (v === null ? 0 : Number(v));
const iso = (t: number): string => new Date(t).toISOString();

export class QueueService {
  private readonly clock: () => number;

  constructor(private readonly d: QueueServiceDeps) {
    this.clock = d.clock ?? Date.now;
  }

  /**
   * Runs `fn` as the one change in progress: lock the state row, apply due expiries, change,
   * commit, publish. `fn` gets the state as of the lock and the head after the expiries.
   */
  private async change<T>(
    fn: (trx: Trx, now: number, events: QueueEvent[], locked: Locked) => Promise<T>,
  ): Promise<T> {
    const events: QueueEvent[] = [];
    const now = this.clock();
    const result = await this.d.db.transaction().execute(async (trx) => {
      // PostgreSQL and MySQL lock the row; an SQLite transaction holds the whole file already.
      let query = trx
        .selectFrom('queue_state')
        .select(['next_index', 'viewing_until'])
        .where('id', '=', 1);
      if (dialectOf(trx) !== 'sqlite') query = query.forUpdate();
      const state = await query.executeTakeFirstOrThrow();
      const viewingUntil = ms(state.viewing_until);
      const head = await this.advance(trx, now, viewingUntil, events);
      return fn(trx, now, events, { nextIndex: state.next_index, viewingUntil, head });
    });
    for (const e of events) await this.d.bus.publish(QUEUE_TOPIC, e.type, e.data);
    return result;
  }

  private async viewingUntil(trx: Kysely<Database>): Promise<number> {
    const row = await trx
      .selectFrom('queue_state')
      .select('viewing_until')
      .where('id', '=', 1)
      .executeTakeFirstOrThrow();
    return ms(row.viewing_until);
  }

  private async head(
    trx: Kysely<Database>,
  ): Promise<{ id: number; code: string; became_head_at: number } | null> {
    const row = await trx
      .selectFrom('queue_tokens')
      .select(['id', 'code', 'became_head_at'])
      .where('state', '=', 'waiting')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    return row ? { id: row.id, code: row.code, became_head_at: ms(row.became_head_at) } : null;
  }

  private deadlineOf(becameHeadAt: number, viewingUntil: number): number {
    return Math.max(becameHeadAt, viewingUntil) + this.d.timing.claimWindowMs;
  }

  /** Makes the next waiting token head at `at` (after the previous head left the line). */
  private async promoteNext(
    trx: Trx,
    at: number,
    viewingUntil: number,
    events: QueueEvent[],
  ): Promise<void> {
    const next = await this.head(trx);
    if (!next) {
      events.push({ type: 'head-changed', data: { token: null, deadline: null } });
      return;
    }
    await trx
      .updateTable('queue_tokens')
      .set({ became_head_at: at })
      .where('id', '=', next.id)
      .execute();
    const deadline = this.deadlineOf(at, viewingUntil);
    events.push({ type: 'head-changed', data: { token: next.code, deadline: iso(deadline) } });
  }

  /** Applies what is due at `now` (viewings that ended, heads whose turn passed); returns the head. */
  private async advance(
    trx: Trx,
    now: number,
    viewingUntil: number,
    events: QueueEvent[],
  ): Promise<Head | null> {
    const ended = await trx
      .selectFrom('queue_tokens')
      .select(['id', 'code', 'view_until'])
      .where('state', '=', 'serving')
      .where('view_until', '<=', now)
      .orderBy('id')
      .execute();
    for (const t of ended) {
      await trx
        .updateTable('queue_tokens')
        .set({ state: 'used', live_code: null, ended_at: ms(t.view_until) })
        .where('id', '=', t.id)
        .where('state', '=', 'serving')
        .execute();
      events.push({ type: 'serving-ended', data: { token: t.code } });
      events.push({ type: 'token-removed', data: { token: t.code, reason: 'used' } });
    }
    // Each expired head hands over at its own deadline, so a line computed late is still fair.
    for (let i = 0; i <= CODE_COUNT; i++) {
      const head = await this.head(trx);
      if (!head) return null;
      const deadline = this.deadlineOf(head.became_head_at, viewingUntil);
      if (now < deadline) return head;
      await trx
        .updateTable('queue_tokens')
        .set({ state: 'expired', live_code: null, ended_at: deadline })
        .where('id', '=', head.id)
        .where('state', '=', 'waiting')
        .execute();
      events.push({ type: 'token-removed', data: { token: head.code, reason: 'expired' } });
      await this.promoteNext(trx, deadline, viewingUntil, events);
    }
    return null;
  }

  /** A client's ban, if one is in force. */
  async banOf(ip: string): Promise<number | null> {
    const row = await this.d.db
      .selectFrom('queue_bans')
      .select('expires_at')
      .where('ip', '=', ip)
      .where('expires_at', '>', this.clock())
      .executeTakeFirst();
    return row ? ms(row.expires_at) : null;
  }

  private async ban(trx: Trx, ip: string, reason: string, now: number): Promise<void> {
    await trx.deleteFrom('queue_bans').where('ip', '=', ip).execute();
    await trx
      .insertInto('queue_bans')
      .values({ ip, reason, created_at: now, expires_at: now + this.d.timing.banMs })
      .execute();
  }

  private async position(trx: Kysely<Database>, id: number): Promise<number> {
    const { n } = await trx
      .selectFrom('queue_tokens')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('state', '=', 'waiting')
      .where('id', '<', id)
      .executeTakeFirstOrThrow();
    return Number(n) + 1;
  }

  /** Upper bound of the wait of the token at `position`: every one ahead uses its whole window. */
  private estimatedWaitS(position: number): number {
    return Math.ceil(
      ((position - 1) * (this.d.timing.claimWindowMs + this.d.timing.viewWindowMs)) / 1000,
    );
  }

  async issue(ip: string): Promise<IssueOutcome> {
    const banned = await this.banOf(ip);
    if (banned !== null) return { kind: 'banned', until: banned };
    return this.change(async (trx, now, events, locked) => {
      // The next code in order, skipping codes still live; a full line has none free.
      let index = locked.nextIndex;
      for (let tries = 0; ; tries++) {
        const taken = await trx
          .selectFrom('queue_tokens')
          .select('id')
          .where('live_code', '=', codeAt(index))
          .executeTakeFirst();
        if (!taken) break;
        if (tries === 0) {
          const { live } = await trx
            .selectFrom('queue_tokens')
            .select((eb) => eb.fn.count<number | string>('live_code').as('live'))
            .executeTakeFirstOrThrow();
          if (Number(live) >= CODE_COUNT) {
            return {
              kind: 'full' as const,
              retryAfterS: Math.ceil(this.d.timing.claimWindowMs / 1000),
            };
          }
        }
        index = (index + 1) % CODE_COUNT;
      }
      const code = codeAt(index);
      const secret = randomBytes(18).toString('base64url');
      const wasEmpty = locked.head === null;
      const { n: waiting } = await trx
        .selectFrom('queue_tokens')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('state', '=', 'waiting')
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('queue_tokens')
        .values({
          code,
          live_code: code,
          secret_hash: hashSecret(secret),
          state: 'waiting',
          issued_at: now,
          became_head_at: wasEmpty ? now : null,
          client_ip: ip,
        })
        .execute();
      await trx
        .updateTable('queue_state')
        .set({ next_index: (index + 1) % CODE_COUNT })
        .where('id', '=', 1)
        .execute();
      // The newest token is last in the line.
      const position = Number(waiting) + 1;
      events.push({ type: 'token-issued', data: { token: code, position } });
      if (wasEmpty) {
        const deadline = this.deadlineOf(now, locked.viewingUntil);
        events.push({ type: 'head-changed', data: { token: code, deadline: iso(deadline) } });
      }
      return {
        kind: 'issued' as const,
        token: code,
        secret,
        position,
        estimatedWaitS: this.estimatedWaitS(position),
      };
    });
  }

  /** The live token holding `code` whose secret matches, or why not. */
  private async owned(
    trx: Trx,
    code: string,
    secret: string,
  ): Promise<
    | { kind: 'ok'; id: number; state: TokenState; image_url: string | null; view_until: number }
    | { kind: 'cheater'; reason: string }
  > {
    const token = CODE_PATTERN.test(code)
      ? await trx
          .selectFrom('queue_tokens')
          .select(['id', 'state', 'secret_hash', 'image_url', 'view_until'])
          .where('live_code', '=', code)
          .executeTakeFirst()
      : undefined;
    if (!token) return { kind: 'cheater', reason: `${code} is not a live token` };
    const given = Buffer.from(hashSecret(secret));
    if (!timingSafeEqual(given, Buffer.from(token.secret_hash))) {
      return { kind: 'cheater', reason: `wrong secret for ${code}` };
    }
    return {
      kind: 'ok',
      id: token.id,
      state: token.state,
      image_url: token.image_url,
      view_until: ms(token.view_until),
    };
  }

  async claim(code: string, secret: string, ip: string): Promise<ClaimOutcome> {
    const banned = await this.banOf(ip);
    if (banned !== null) return { kind: 'banned', until: banned };
    // The picture is chosen before the transaction: a slow album never holds the line's lock.
    const picture = await this.d.picture();
    return this.change(async (trx, now, events, locked) => {
      const owned = await this.owned(trx, code, secret);
      if (owned.kind === 'cheater') {
        if (locked.head === null) return { kind: 'empty' as const };
        await this.ban(trx, ip, owned.reason, now);
        return owned;
      }
      if (owned.state === 'serving' && owned.image_url) {
        // Asked again while viewing (a reload): the same picture.
        return { kind: 'claimed' as const, imageUrl: owned.image_url, viewUntil: owned.view_until };
      }
      const head = locked.head;
      if (!head) return { kind: 'empty' as const };
      if (head.id !== owned.id) {
        const position = await this.position(trx, owned.id);
        const deadline = this.deadlineOf(head.became_head_at, locked.viewingUntil);
        return {
          kind: 'not-your-turn' as const,
          position,
          // Its turn comes at the latest when everyone ahead has used their window.
          retryAfterS: Math.max(1, Math.ceil((deadline - now) / 1000)),
        };
      }
      if (picture === null) return { kind: 'no-picture' as const };
      const viewUntil = now + this.d.timing.viewWindowMs;
      await trx
        .updateTable('queue_tokens')
        .set({ state: 'serving', claimed_at: now, view_until: viewUntil, image_url: picture })
        .where('id', '=', owned.id)
        .where('state', '=', 'waiting')
        .execute();
      await trx
        .updateTable('queue_state')
        .set({ viewing_until: viewUntil })
        .where('id', '=', 1)
        .execute();
      events.push({ type: 'serving-started', data: { token: code, view_until: iso(viewUntil) } });
      await this.promoteNext(trx, now, viewUntil, events);
      return { kind: 'claimed' as const, imageUrl: picture, viewUntil };
    });
  }

  /** The owner leaves the line (a waiting token) or stops viewing (a serving one). */
  async leave(code: string, secret: string, ip: string): Promise<LeaveOutcome> {
    const banned = await this.banOf(ip);
    if (banned !== null) return { kind: 'banned', until: banned };
    return this.change(async (trx, now, events, locked) => {
      const owned = await this.owned(trx, code, secret);
      if (owned.kind === 'cheater') {
        await this.ban(trx, ip, owned.reason, now);
        return owned;
      }
      const head = locked.head;
      await trx
        .updateTable('queue_tokens')
        .set({ state: 'left', live_code: null, ended_at: now })
        .where('id', '=', owned.id)
        .execute();
      if (owned.state === 'serving') events.push({ type: 'serving-ended', data: { token: code } });
      events.push({ type: 'token-removed', data: { token: code, reason: 'left' } });
      if (head?.id === owned.id) await this.promoteNext(trx, now, locked.viewingUntil, events);
      return { kind: 'left' as const };
    });
  }

  /** Applies due expiries now (the periodic sweep); a no-op transaction is avoided. */
  async sweep(): Promise<void> {
    const now = this.clock();
    const due = await this.d.db
      .selectFrom('queue_tokens')
      .select('id')
      .where('state', '=', 'serving')
      .where('view_until', '<=', now)
      .limit(1)
      .executeTakeFirst();
    const head = await this.head(this.d.db);
    const headDue =
      head !== null &&
      now >= this.deadlineOf(head.became_head_at, await this.viewingUntil(this.d.db));
    if (due || headDue) await this.change(async () => undefined);
  }

  async board(): Promise<Board> {
    await this.sweep();
    const db = this.d.db;
    const waiting = await db
      .selectFrom('queue_tokens')
      .select(['code', 'became_head_at'])
      .where('state', '=', 'waiting')
      .orderBy('id')
      .limit(BOARD_SIZE + 1)
      .execute();
    const serving = await db
      .selectFrom('queue_tokens')
      .select('code')
      .where('state', '=', 'serving')
      .orderBy('id')
      .execute();
    const { n } = await db
      .selectFrom('queue_tokens')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('state', '=', 'waiting')
      .executeTakeFirstOrThrow();
    const [head] = waiting;
    return {
      head: head?.code ?? null,
      deadline: head
        ? iso(this.deadlineOf(ms(head.became_head_at), await this.viewingUntil(db)))
        : null,
      serving: serving.map((s) => s.code),
      waiting: waiting.slice(1).map((w) => w.code),
      length: Number(n),
    };
  }

  async status(code: string): Promise<TokenStatus | null> {
    if (!CODE_PATTERN.test(code)) return null;
    await this.sweep();
    const db = this.d.db;
    const token =
      (await db
        .selectFrom('queue_tokens')
        .selectAll()
        .where('live_code', '=', code)
        .executeTakeFirst()) ??
      (await db
        .selectFrom('queue_tokens')
        .selectAll()
        .where('code', '=', code)
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst());
    if (!token) return null;
    if (token.state === 'serving') {
      return { token: code, state: 'serving', position: null, deadline: iso(ms(token.view_until)) };
    }
    if (token.state !== 'waiting')
      return { token: code, state: token.state, position: null, deadline: null };
    const head = await this.head(db);
    const viewing = await this.viewingUntil(db);
    const headDeadline = head ? this.deadlineOf(head.became_head_at, viewing) : 0;
    if (head?.id === token.id)
      return { token: code, state: 'head', position: 1, deadline: iso(headDeadline) };
    const position = await this.position(db, token.id);
    // At the latest, its turn starts when everyone ahead has used a whole window.
    const latestStart = headDeadline + (position - 2) * this.d.timing.claimWindowMs;
    return { token: code, state: 'waiting', position, deadline: iso(latestStart) };
  }

  async bans(): Promise<{ ip: string; reason: string; created_at: string; expires_at: string }[]> {
    const rows = await this.d.db
      .selectFrom('queue_bans')
      .selectAll()
      .where('expires_at', '>', this.clock())
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map((r) => ({
      ip: r.ip,
      reason: r.reason,
      created_at: iso(ms(r.created_at)),
      expires_at: iso(ms(r.expires_at)),
    }));
  }

  async unban(ip: string): Promise<boolean> {
    const result = await this.d.db.deleteFrom('queue_bans').where('ip', '=', ip).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
