/**
 * The queue's SQL, every function taking the executor (database or transaction) first. Times
 * are epoch milliseconds; the state row (`queue_state`, id 1) is the line's summary and its lock.
 */
import type { Kysely, Transaction } from 'kysely';
import { dialectOf } from '../../core/db/portable.js';
import type { QueueDatabase, TokenState } from './queue.tables.js';

export type Executor = Kysely<QueueDatabase> | Transaction<QueueDatabase>;

/** The token at the head of the line. */
export interface Head {
  id: number;
  code: string;
  became_head_at: number;
}

/** The state row, as the service reads and writes it. */
export interface LineState {
  nextIndex: number;
  viewingUntil: number;
  head: Head | null;
  waiting: number;
}

/** Stored times come back as numbers or, from some drivers, strings. */
export const ms = (v: number | string | null): number => (v === null ? 0 : Number(v));

/** The state row; `lock`: for the change about to be made (PostgreSQL/MySQL row lock). */
export async function readLine(db: Executor, lock = false): Promise<LineState> {
  let query = db.selectFrom('queue_state').selectAll().where('id', '=', 1);
  // An SQLite write transaction holds the whole file already.
  if (lock && dialectOf(db) !== 'sqlite') query = query.forUpdate();
  const row = await query.executeTakeFirstOrThrow();
  return {
    nextIndex: row.next_index,
    viewingUntil: ms(row.viewing_until),
    head:
      row.head_id === null || row.head_code === null
        ? null
        : { id: row.head_id, code: row.head_code, became_head_at: ms(row.head_since) },
    waiting: row.waiting,
  };
}

export async function writeLine(trx: Executor, line: LineState): Promise<void> {
  await trx
    .updateTable('queue_state')
    .set({
      next_index: line.nextIndex,
      viewing_until: line.viewingUntil,
      head_id: line.head?.id ?? null,
      head_code: line.head?.code ?? null,
      head_since: line.head?.became_head_at ?? null,
      waiting: line.waiting,
    })
    .where('id', '=', 1)
    .execute();
}

/** The first waiting token (read from the tokens, not the summary). */
export async function firstWaiting(db: Executor): Promise<Head | null> {
  const row = await db
    .selectFrom('queue_tokens')
    .select(['id', 'code', 'became_head_at'])
    .where('state', '=', 'waiting')
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
  return row ? { id: row.id, code: row.code, became_head_at: ms(row.became_head_at) } : null;
}

export async function setBecameHead(trx: Executor, id: number, at: number): Promise<void> {
  await trx.updateTable('queue_tokens').set({ became_head_at: at }).where('id', '=', id).execute();
}

/** Serving tokens whose view window ended by `now`, in line order. */
export function endedViewings(
  db: Executor,
  now: number,
): Promise<{ id: number; code: string; view_until: number | string | null }[]> {
  return db
    .selectFrom('queue_tokens')
    .select(['id', 'code', 'view_until'])
    .where('state', '=', 'serving')
    .where('view_until', '<=', now)
    .orderBy('id')
    .execute();
}

/** Whether a view window has ended by `now` (the sweep's cheap look before a change). */
export async function anyViewingEnded(db: Executor, now: number): Promise<boolean> {
  const row = await db
    .selectFrom('queue_tokens')
    .select('id')
    .where('state', '=', 'serving')
    .where('view_until', '<=', now)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Ends a token: its code is free again. Only from `from` (a change made meanwhile wins). */
export async function endToken(
  trx: Executor,
  id: number,
  state: 'used' | 'expired' | 'left',
  at: number,
  from?: TokenState,
): Promise<void> {
  let query = trx
    .updateTable('queue_tokens')
    .set({ state, live_code: null, ended_at: at })
    .where('id', '=', id);
  if (from) query = query.where('state', '=', from);
  await query.execute();
}

/** The token is claimed: its code is free for the next token at once, while its owner views. */
export async function startServing(
  trx: Executor,
  id: number,
  at: number,
  viewUntil: number,
  imageUrl: string,
): Promise<void> {
  await trx
    .updateTable('queue_tokens')
    .set({
      state: 'serving',
      live_code: null,
      claimed_at: at,
      view_until: viewUntil,
      image_url: imageUrl,
    })
    .where('id', '=', id)
    .where('state', '=', 'waiting')
    .execute();
}

/** The position of waiting token `id`: 1 + the waiting tokens before it. */
export async function positionOf(db: Executor, id: number): Promise<number> {
  const { n } = await db
    .selectFrom('queue_tokens')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('state', '=', 'waiting')
    .where('id', '<', id)
    .executeTakeFirstOrThrow();
  return Number(n) + 1;
}

export interface NewToken {
  code: string;
  secret_hash: string;
  issued_at: number;
  became_head_at: number | null;
  client_ip: string;
}

/** Inserts a waiting token holding `code`; null when the code is live already (unique index). */
export async function insertToken(trx: Executor, token: NewToken): Promise<number | null> {
  const values = { ...token, live_code: token.code, state: 'waiting' as const };
  if (dialectOf(trx) === 'mysql') {
    const r = await trx.insertInto('queue_tokens').ignore().values(values).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0 ? Number(r.insertId) : null;
  }
  const r = await trx
    .insertInto('queue_tokens')
    .values(values)
    .onConflict((oc) => oc.column('live_code').doNothing())
    .returning('id')
    .executeTakeFirst();
  return r ? r.id : null;
}

export interface OwnedRow {
  id: number;
  state: TokenState;
  secret_hash: string;
  image_url: string | null;
  view_until: number | string | null;
}

/**
 * The tokens showing `code` that are still in play: the waiting one (codes are unique among
 * them) and those being viewed (a claimed token frees its code at once, so several may show it).
 */
export function liveTokens(db: Executor, code: string): Promise<OwnedRow[]> {
  return db
    .selectFrom('queue_tokens')
    .select(['id', 'state', 'secret_hash', 'image_url', 'view_until'])
    .where('code', '=', code)
    .where('state', 'in', ['waiting', 'serving'])
    .execute();
}

/** Whether a token that showed `code` and has ended was issued with this secret's hash. */
export async function endedTokenWith(
  db: Executor,
  code: string,
  secretHash: string,
): Promise<boolean> {
  const row = await db
    .selectFrom('queue_tokens')
    .select('id')
    .where('code', '=', code)
    .where('secret_hash', '=', secretHash)
    .where('state', 'in', ['used', 'expired', 'left'])
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** The codes held by waiting tokens (for the lowest free one). */
export async function liveCodes(db: Executor): Promise<string[]> {
  const rows = await db
    .selectFrom('queue_tokens')
    .select('live_code')
    .where('live_code', 'is not', null)
    .execute();
  return rows.flatMap((r) => (r.live_code === null ? [] : [r.live_code]));
}

/** The token holding `code` now, or else the last one that held it. */
export async function tokenByCode(db: Executor, code: string) {
  return (
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
      .executeTakeFirst())
  );
}

/** The codes of tokens in `state`, in line order. */
export async function codesIn(
  db: Executor,
  state: 'waiting' | 'serving',
  limit?: number,
): Promise<string[]> {
  let query = db.selectFrom('queue_tokens').select('code').where('state', '=', state).orderBy('id');
  if (limit !== undefined) query = query.limit(limit);
  return (await query.execute()).map((r) => r.code);
}

// Bans ----------------------------------------------------------------------------------------

/** When the ban of `ip` in force at `now` ends, or null. */
export async function banOf(db: Executor, ip: string, now: number): Promise<number | null> {
  const row = await db
    .selectFrom('queue_bans')
    .select('expires_at')
    .where('ip', '=', ip)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return row ? ms(row.expires_at) : null;
}

/** The bans in force at `now` of any of `ips`, by ip. */
export async function bansOf(
  db: Executor,
  ips: readonly string[],
  now: number,
): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('queue_bans')
    .select(['ip', 'expires_at'])
    .where('ip', 'in', [...new Set(ips)])
    .where('expires_at', '>', now)
    .execute();
  return new Map(rows.map((b) => [b.ip, ms(b.expires_at)]));
}

/** Bans `ip` from `now` until `until`, replacing a ban it had. */
export async function putBan(
  trx: Executor,
  ip: string,
  reason: string,
  now: number,
  until: number,
): Promise<void> {
  await trx.deleteFrom('queue_bans').where('ip', '=', ip).execute();
  await trx
    .insertInto('queue_bans')
    .values({ ip, reason, created_at: now, expires_at: until })
    .execute();
}

/** The bans in force at `now`, newest first. */
export function bansInForce(db: Executor, now: number) {
  return db
    .selectFrom('queue_bans')
    .selectAll()
    .where('expires_at', '>', now)
    .orderBy('created_at', 'desc')
    .execute();
}

export async function deleteBan(db: Executor, ip: string): Promise<boolean> {
  const result = await db.deleteFrom('queue_bans').where('ip', '=', ip).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
