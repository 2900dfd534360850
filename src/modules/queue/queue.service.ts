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
import { CODE_COUNT, codeAt, CODE_PATTERN, indexOf } from './queue.codes.js';
import type { QueueDatabase, TokenState } from './queue.tables.js';
import { groupCommit } from '../../core/batch.js';
import type { Board } from './queue.schemas.js';
import * as repo from './queue.repository.js';
import { ms, type LineState } from './queue.repository.js';

export const QUEUE_TOPIC = 'queue';
const BOARD_SIZE = 64;
/** Most token requests written in one transaction. */
const ISSUE_BATCH = 128;

export interface QueueEvent {
  type: 'token-issued' | 'token-removed' | 'head-changed' | 'serving-started' | 'serving-ended';
  data: Record<string, unknown>;
}

export type { Board } from './queue.schemas.js';

export interface QueueTiming {
  claimWindowMs: number;
  viewWindowMs: number;
  banMs: number;
}

export interface QueueServiceDeps {
  db: Kysely<QueueDatabase>;
  bus: Bus;
  timing: QueueTiming;
  /** Epoch milliseconds (tests inject one). */
  clock?: () => number;
  /** A picture URL for a successful claim, or null when none can be served. */
  picture: () => Promise<string | null>;
  /**
   * Hand out the lowest free code (the original's order) rather than the next one in the cycle
   * after the last issued.
   */
  lowestFreeCode?: boolean;
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
  | { kind: 'no-picture' }
  | { kind: 'ended' };

/** Leaving never bans: a wrong secret is refused (`not-owner`), one's own ended token is `ended`. */
export type LeaveOutcome =
  | { kind: 'left' }
  | { kind: 'not-owner'; reason: string }
  | { kind: 'ended' }
  | { kind: 'banned'; until: number };

export interface TokenStatus {
  token: string;
  state: TokenState | 'head';
  position: number | null;
  /** Head: when its turn ends; waiting: the latest its turn can start; serving: end of viewing. */
  deadline: string | null;
  /** Waiting: seconds until its turn starts at the latest; head: 0; otherwise null. */
  estimatedWaitS: number | null;
}

type Trx = Transaction<QueueDatabase>;

const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

const iso = (t: number): string => new Date(t).toISOString();

/** The index of the lowest code whose index is not in `taken`. */
function lowestFree(taken: ReadonlySet<number | null>): number {
  let index = 0;
  while (taken.has(index)) index++;
  return index % CODE_COUNT;
}

/** The queue: issue, claim, leave, the sweep of what is due, the board and bans. */
export type QueueService = ReturnType<typeof createQueueService>;

export function createQueueService(d: QueueServiceDeps) {
  const clock = d.clock ?? Date.now;

  /**
   * Runs `fn` as the one change in progress: lock the state row, apply due expiries, change,
   * write the state back, commit, publish; resolves once its events are announced (see
   * `Bus.announce`), so that the change is answered after them.
   */
  async function change<T>(
    fn: (trx: Trx, now: number, events: QueueEvent[], line: LineState) => Promise<T>,
  ): Promise<T> {
    const { value, announced } = await commitChange(fn);
    await announced;
    return value;
  }

  /** `change`, resolving at the commit; `announced` resolves once its events are announced. */
  async function commitChange<T>(
    fn: (trx: Trx, now: number, events: QueueEvent[], line: LineState) => Promise<T>,
  ): Promise<{ value: T; announced: Promise<unknown> }> {
    const events: QueueEvent[] = [];
    const now = clock();
    const value = await d.db.transaction().execute(async (trx) => {
      const line = await repo.readLine(trx, true);
      await advance(trx, now, line, events);
      const result = await fn(trx, now, events, line);
      await repo.writeLine(trx, line);
      return result;
    });
    const announced = Promise.all(events.map((e) => d.bus.announce(QUEUE_TOPIC, e.type, e.data)));
    return { value, announced };
  }

  function deadlineOf(becameHeadAt: number, viewingUntil: number): number {
    return Math.max(becameHeadAt, viewingUntil) + d.timing.claimWindowMs;
  }

  /** The head left the line at `at`: the next waiting token becomes head then. */
  async function promoteNext(
    trx: Trx,
    at: number,
    line: LineState,
    events: QueueEvent[],
  ): Promise<void> {
    const next = await repo.firstWaiting(trx);
    if (!next) {
      line.head = null;
      events.push({ type: 'head-changed', data: { token: null, deadline: null } });
      return;
    }
    await repo.setBecameHead(trx, next.id, at);
    line.head = { ...next, became_head_at: at };
    const deadline = deadlineOf(at, line.viewingUntil);
    events.push({ type: 'head-changed', data: { token: next.code, deadline: iso(deadline) } });
  }

  /** Applies what is due at `now`: viewings that ended, heads whose turn passed. */
  async function advance(
    trx: Trx,
    now: number,
    line: LineState,
    events: QueueEvent[],
  ): Promise<void> {
    if (line.viewingUntil > 0) {
      for (const t of await repo.endedViewings(trx, now)) {
        await repo.endToken(trx, t.id, 'used', ms(t.view_until), 'serving');
        events.push({ type: 'serving-ended', data: { token: t.code } });
        events.push({
          type: 'token-removed',
          data: { token: t.code, reason: 'used', from: 'serving' },
        });
      }
    }
    // Each expired head hands over at its own deadline, so a line computed late is still fair.
    while (line.head) {
      const deadline = deadlineOf(line.head.became_head_at, line.viewingUntil);
      if (now < deadline) return;
      await repo.endToken(trx, line.head.id, 'expired', deadline, 'waiting');
      line.waiting--;
      events.push({
        type: 'token-removed',
        data: { token: line.head.code, reason: 'expired', from: 'waiting' },
      });
      await promoteNext(trx, deadline, line, events);
    }
  }

  /** A client's ban, if one is in force. */
  function banOf(ip: string): Promise<number | null> {
    return repo.banOf(d.db, ip, clock());
  }

  async function ban(trx: Trx, ip: string, reason: string, now: number): Promise<void> {
    await repo.putBan(trx, ip, reason, now, now + d.timing.banMs);
  }

  /** Upper bound of the wait of the token at `position`: every one ahead uses its whole window. */
  function estimatedWaitS(position: number): number {
    return Math.ceil(((position - 1) * (d.timing.claimWindowMs + d.timing.viewWindowMs)) / 1000);
  }

  /**
   * Issues a token. Requests that arrive while a batch is being written wait for the next one:
   * each batch is one transaction for all of them (in arrival order), so the line's lock, the
   * state row and the commit are paid once per batch rather than once per token.
   */
  async function issue(ip: string): Promise<IssueOutcome> {
    const { outcome, announced } = await issueInGroup(ip);
    await announced;
    return outcome;
  }

  const issueInGroup = groupCommit(ISSUE_BATCH, (ips: string[]) => issueBatch(ips));

  /** The next batch starts at the commit; each request is answered once the events are out. */
  async function issueBatch(
    ips: string[],
  ): Promise<{ outcome: IssueOutcome; announced: Promise<unknown> }[]> {
    const now = clock();
    const bannedUntil = await repo.bansOf(d.db, ips, now);
    if (ips.every((ip) => bannedUntil.has(ip))) {
      const announced = Promise.resolve();
      return ips.map((ip) => ({
        outcome: { kind: 'banned', until: bannedUntil.get(ip) ?? now },
        announced,
      }));
    }
    const { value, announced } = await commitChange(async (trx, at, events, line) => {
      // The original's order: the codes held, read once for the batch, then kept up to date.
      const taken = d.lowestFreeCode ? new Set((await repo.liveCodes(trx)).map(indexOf)) : null;
      const outcomes: IssueOutcome[] = [];
      for (const ip of ips) {
        const until = bannedUntil.get(ip);
        outcomes.push(
          until === undefined
            ? await issueOne(trx, at, events, line, ip, taken)
            : { kind: 'banned', until },
        );
      }
      return outcomes;
    });
    return value.map((outcome) => ({ outcome, announced }));
  }

  async function issueOne(
    trx: Trx,
    now: number,
    events: QueueEvent[],
    line: LineState,
    ip: string,
    /** With the lowest free code first: the indexes of the codes held. */
    taken: Set<number | null> | null,
  ): Promise<IssueOutcome> {
    const full = {
      kind: 'full' as const,
      retryAfterS: Math.ceil(d.timing.claimWindowMs / 1000),
    };
    if (line.waiting >= CODE_COUNT) return full;
    // The next code in order (or the lowest free one), skipping codes held by waiting tokens
    // (a claimed token frees its code): the insert does nothing when the unique live code is
    // taken, and the next code is tried.
    const secret = randomBytes(18).toString('base64url');
    const wasEmpty = line.head === null;
    let index = taken ? lowestFree(taken) : line.nextIndex;
    let id: number | null = null;
    for (let tries = 0; tries < CODE_COUNT && id === null; tries++) {
      id = await repo.insertToken(trx, {
        code: codeAt(index),
        secret_hash: hashSecret(secret),
        issued_at: now,
        became_head_at: wasEmpty ? now : null,
        client_ip: ip,
      });
      if (id === null) index = (index + 1) % CODE_COUNT;
    }
    if (id === null) return full;
    const code = codeAt(index);
    taken?.add(index);
    line.nextIndex = (index + 1) % CODE_COUNT;
    line.waiting++;
    // The newest token is last in the line.
    const position = line.waiting;
    events.push({ type: 'token-issued', data: { token: code, position } });
    if (wasEmpty) {
      line.head = { id, code, became_head_at: now };
      const deadline = deadlineOf(now, line.viewingUntil);
      events.push({ type: 'head-changed', data: { token: code, deadline: iso(deadline) } });
    }
    return {
      kind: 'issued',
      token: code,
      secret,
      position,
      estimatedWaitS: estimatedWaitS(position),
    };
  }

  /**
   * The token in play showing `code` whose secret matches; or `ended` when the secret is that of
   * a token of this code that has ended (its owner, not a cheat); or why not.
   */
  async function ownedToken(
    trx: Trx,
    code: string,
    secret: string,
  ): Promise<
    | { kind: 'ok'; id: number; state: TokenState; image_url: string | null; view_until: number }
    | { kind: 'ended' }
    | { kind: 'cheater'; reason: string }
  > {
    if (!CODE_PATTERN.test(code)) return { kind: 'cheater', reason: `${code} is not a token` };
    const candidates = await repo.liveTokens(trx, code);
    const hash = hashSecret(secret);
    const given = Buffer.from(hash);
    // Every candidate is compared, so the time taken does not tell which one matched.
    let token: repo.OwnedRow | undefined;
    for (const c of candidates) {
      if (timingSafeEqual(given, Buffer.from(c.secret_hash))) token = c;
    }
    if (!token) {
      if (secret !== '' && (await repo.endedTokenWith(trx, code, hash))) return { kind: 'ended' };
      const reason =
        candidates.length === 0 ? `${code} is not a live token` : `wrong secret for ${code}`;
      return { kind: 'cheater', reason };
    }
    return {
      kind: 'ok',
      id: token.id,
      state: token.state,
      image_url: token.image_url,
      view_until: ms(token.view_until),
    };
  }

  async function claim(code: string, secret: string, ip: string): Promise<ClaimOutcome> {
    const banned = await banOf(ip);
    if (banned !== null) return { kind: 'banned', until: banned };
    // The picture is chosen before the transaction: a slow album never holds the line's lock.
    const picture = await d.picture();
    return change(async (trx, now, events, line) => {
      const owned = await ownedToken(trx, code, secret);
      if (owned.kind === 'ended') return owned;
      if (owned.kind === 'cheater') {
        if (line.head === null) return { kind: 'empty' as const };
        await ban(trx, ip, owned.reason, now);
        return owned;
      }
      if (owned.state === 'serving' && owned.image_url) {
        // Asked again while viewing (a reload): the same picture.
        return { kind: 'claimed' as const, imageUrl: owned.image_url, viewUntil: owned.view_until };
      }
      const head = line.head;
      if (!head) return { kind: 'empty' as const };
      if (head.id !== owned.id) {
        const position = await repo.positionOf(trx, owned.id);
        const deadline = deadlineOf(head.became_head_at, line.viewingUntil);
        return {
          kind: 'not-your-turn' as const,
          position,
          // Its turn comes at the latest when everyone ahead has used their window.
          retryAfterS: Math.max(1, Math.ceil((deadline - now) / 1000)),
        };
      }
      if (picture === null) return { kind: 'no-picture' as const };
      const viewUntil = now + d.timing.viewWindowMs;
      await repo.startServing(trx, owned.id, now, viewUntil, picture);
      line.viewingUntil = viewUntil;
      line.waiting--;
      events.push({ type: 'serving-started', data: { token: code, view_until: iso(viewUntil) } });
      await promoteNext(trx, now, line, events);
      return { kind: 'claimed' as const, imageUrl: picture, viewUntil };
    });
  }

  /** The owner leaves the line (a waiting token) or stops viewing (a serving one). */
  async function leave(code: string, secret: string, ip: string): Promise<LeaveOutcome> {
    const banned = await banOf(ip);
    if (banned !== null) return { kind: 'banned', until: banned };
    return change(async (trx, now, events, line) => {
      const owned = await ownedToken(trx, code, secret);
      if (owned.kind === 'ended') return owned;
      if (owned.kind === 'cheater') return { kind: 'not-owner' as const, reason: owned.reason };
      const head = line.head;
      await repo.endToken(trx, owned.id, 'left', now);
      const from = owned.state === 'serving' ? 'serving' : 'waiting';
      if (from === 'serving') events.push({ type: 'serving-ended', data: { token: code } });
      events.push({ type: 'token-removed', data: { token: code, reason: 'left', from } });
      if (owned.state === 'waiting') line.waiting--;
      if (head?.id === owned.id) await promoteNext(trx, now, line, events);
      return { kind: 'left' as const };
    });
  }

  /** Applies due expiries now (the periodic sweep, and before reads); skips a no-op change. */
  async function sweep(): Promise<void> {
    const now = clock();
    const line = await repo.readLine(d.db);
    const headDue =
      line.head !== null && now >= deadlineOf(line.head.became_head_at, line.viewingUntil);
    const viewingDue = line.viewingUntil > 0 && (await repo.anyViewingEnded(d.db, now));
    if (headDue || viewingDue) await change(async () => undefined);
  }

  async function board(): Promise<Board> {
    await sweep();
    const db = d.db;
    const line = await repo.readLine(db);
    const waiting = await repo.codesIn(db, 'waiting', BOARD_SIZE + 1);
    const serving = await repo.codesIn(db, 'serving');
    return {
      head: line.head?.code ?? null,
      deadline: line.head ? iso(deadlineOf(line.head.became_head_at, line.viewingUntil)) : null,
      serving,
      waiting: waiting.slice(1),
      length: line.waiting,
    };
  }

  /** Every waiting code in line order, the head first (the original client's board). */
  async function line(): Promise<string[]> {
    await sweep();
    return repo.codesIn(d.db, 'waiting');
  }

  async function status(code: string): Promise<TokenStatus | null> {
    if (!CODE_PATTERN.test(code)) return null;
    await sweep();
    const db = d.db;
    const token = await repo.tokenByCode(db, code);
    if (!token) return null;
    if (token.state === 'serving') {
      const deadline = iso(ms(token.view_until));
      return { token: code, state: 'serving', position: null, deadline, estimatedWaitS: null };
    }
    if (token.state !== 'waiting') {
      const ended = { position: null, deadline: null, estimatedWaitS: null };
      return { token: code, state: token.state, ...ended };
    }
    const { head, viewingUntil } = await repo.readLine(db);
    const headDeadline = head ? deadlineOf(head.became_head_at, viewingUntil) : 0;
    if (head?.id === token.id) {
      const deadline = iso(headDeadline);
      return { token: code, state: 'head', position: 1, deadline, estimatedWaitS: 0 };
    }
    const position = await repo.positionOf(db, token.id);
    // At the latest, its turn starts when everyone ahead has used a whole window.
    const latestStart = headDeadline + (position - 2) * d.timing.claimWindowMs;
    const estimatedWaitS = Math.max(0, Math.ceil((latestStart - clock()) / 1000));
    return { token: code, state: 'waiting', position, deadline: iso(latestStart), estimatedWaitS };
  }

  async function bans(): Promise<
    { ip: string; reason: string; created_at: string; expires_at: string }[]
  > {
    const rows = await repo.bansInForce(d.db, clock());
    return rows.map((r) => ({
      ip: r.ip,
      reason: r.reason,
      created_at: iso(ms(r.created_at)),
      expires_at: iso(ms(r.expires_at)),
    }));
  }

  async function unban(ip: string): Promise<boolean> {
    return repo.deleteBan(d.db, ip);
  }

  return { banOf, issue, claim, leave, sweep, board, line, status, bans, unban };
}
