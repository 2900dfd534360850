/**
 * HTTP Basic authentication against scrypt hashes from configuration. Checks take the same time
 * whether the user exists or not, compare in constant time, and a successful check is remembered
 * for a short while under a keyed hash of the credentials, so hashing (slow on purpose) does not
 * dominate the cost of a request.
 */
import {
  hash,
  randomBytes,
  scrypt as scryptCallback,
  timingSafeEqual,
  type ScryptOptions,
} from 'node:crypto';
import type { Derive } from './tax.hasher.js';

const scrypt: Derive = (
  password: string,
  salt: Buffer,
  length: number,
  options: ScryptOptions,
): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    scryptCallback(password, salt, length, options, (err, key) => {
      if (err) reject(err);
      else resolve(key);
    });
  });

const KEY_LENGTH = 32;
const DEFAULT_COST = { N: 16384, r: 8, p: 1 };

interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

/** `scrypt$N$r$p$salt$key` (base64 salt and key). */
export async function hashPassword(password: string, cost = DEFAULT_COST): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LENGTH, { ...cost, maxmem: 256 * cost.N * cost.r });
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export function parseHash(text: string): ParsedHash | null {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(text);
  if (!m) return null;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Bounded costs: a hash from configuration must not be able to exhaust the server.
  if (N < 2 || N > 2 ** 20 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16)
    return null;
  return {
    N,
    r,
    p,
    salt: Buffer.from(m[4] ?? '', 'base64'),
    key: Buffer.from(m[5] ?? '', 'base64'),
  };
}

/** Longer Authorization headers are refused unread (Basic of a 1 KiB password fits easily). */
const MAX_HEADER = 2048;

/** `Authorization: Basic …` → user and password, or null. */
export function parseBasic(header: string | undefined): { user: string; password: string } | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return null;
  const decoded = Buffer.from(m[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * The cache key of a header: SHA-256 of a per-process secret followed by the header, one
 * one-shot digest (a third of HMAC's cost, with no native object per call). HMAC's nested
 * construction guards against length extension, which needs an attacker who sees digests; these
 * never leave the process. What the cache needs is collision resistance (no header may land on
 * another's entry), which SHA-256 gives, and a secret, so that a memory dump of the digests
 * cannot be checked against guessed passwords without it. The secret is written as fixed-length
 * text, so secret and header cannot run into each other.
 */
export function keyedHasher(key: Buffer): (message: string) => string {
  if (key.length < 16) throw new Error('keyedHasher: use a key of at least 16 random bytes');
  const prefix = key.toString('base64');
  return (message) => hash('sha256', prefix + message, 'base64');
}

/** A verified user, until when (renewed in place, so every memo of it sees the renewal). */
interface Remembered {
  user: string;
  until: number;
}

export interface Verifier {
  /**
   * The user when this very header was verified lately (no hashing beyond the keyed digest; none
   * at all when `connection` sent this same header last time). A remembered login close to its
   * end is renewed in the background, so that a steady client never waits for a hash.
   */
  remembered(header: string | undefined, connection?: object): string | null;
  /**
   * The user name when the header holds valid credentials, else null. Concurrent checks of the
   * same header share one hash.
   * @throws HasherBusy when too many checks are waiting already.
   */
  verify(header: string | undefined, connection?: object): Promise<string | null>;
}

/** Whether two strings are equal, in a time that depends on their length only. */
export function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export interface VerifierOptions {
  users: Readonly<Record<string, string>>;
  cacheMs: number;
  now?: () => number;
  maxCached?: number;
  /** The key derivation (tests count its calls); scrypt on libuv's pool by default. */
  derive?: Derive;
}

/** A remembered login is renewed once it has less than this share of its time left. */
const RENEW_SHARE = 0.25;

export function createVerifier(options: VerifierOptions): Verifier {
  const now = options.now ?? Date.now;
  const maxCached = options.maxCached ?? 10_000;
  const derive = options.derive ?? scrypt;
  const renewWithinMs = options.cacheMs * RENEW_SHARE;
  const users = new Map<string, ParsedHash>();
  for (const [user, text] of Object.entries(options.users)) {
    const parsed = parseHash(text);
    if (!parsed)
      throw new Error(
        `tax.users.${user}: not a valid scrypt hash (use \`agora tax hash-password\`)`,
      );
    users.set(user, parsed);
  }
  // Unknown users are checked against this, so a miss costs as much as a wrong password.
  const decoy: ParsedHash = {
    ...DEFAULT_COST,
    salt: randomBytes(16),
    key: randomBytes(KEY_LENGTH),
  };
  // The cache holds keyed digests of whole Authorization headers, never passwords; the key lives
  // only in this process. A header seen and verified lately is not even parsed again.
  const digestOf = keyedHasher(randomBytes(32));
  const cache = new Map<string, Remembered>();
  // Checks under way, by digest: concurrent requests with the same header wait for one hash
  // (when a login expires under load, every request in flight would otherwise hash it again).
  const checking = new Map<string, Promise<string | null>>();
  // A client sends the same header on every request of a keep-alive connection: each connection
  // remembers the last header it had verified, and then even the digest is skipped. This holds
  // the connection's own header only while the connection lives; the comparison takes constant
  // time, because a connection may be a proxy's, shared by many users.
  const connections = new WeakMap<object, { header: string; entry: Remembered }>();

  /** Hashes the header's password and compares; the user or null. */
  const check = async (header: string): Promise<string | null> => {
    const credentials = parseBasic(header);
    if (!credentials) return null;
    const stored = users.get(credentials.user);
    const target = stored ?? decoy;
    const key = await derive(credentials.password, target.salt, target.key.length, {
      N: target.N,
      r: target.r,
      p: target.p,
      maxmem: 256 * target.N * target.r,
    });
    return stored && timingSafeEqual(key, target.key) ? credentials.user : null;
  };

  const store = (digest: string, user: string): Remembered | null => {
    if (options.cacheMs <= 0) return null;
    const existing = cache.get(digest);
    if (existing !== undefined) {
      existing.until = now() + options.cacheMs;
      return existing;
    }
    if (cache.size >= maxCached) {
      const t = now();
      for (const [k, v] of cache) if (v.until <= t) cache.delete(k);
      if (cache.size >= maxCached) cache.clear();
    }
    const entry = { user, until: now() + options.cacheMs };
    cache.set(digest, entry);
    return entry;
  };

  /** One check per digest at a time; a success is remembered. */
  const checkOnce = (digest: string, header: string): Promise<string | null> => {
    let running = checking.get(digest);
    if (running === undefined) {
      running = check(header)
        .then((user) => {
          if (user === null) cache.delete(digest);
          else store(digest, user);
          return user;
        })
        .finally(() => checking.delete(digest));
      checking.set(digest, running);
    }
    return running;
  };

  /** Starts renewing `entry` when its end is near (nothing waits for it). */
  const renewSoon = (entry: Remembered, digest: string, header: string): void => {
    if (entry.until - now() > renewWithinMs || checking.has(digest)) return;
    // A renewal that cannot run now (the hasher is busy) is tried again at the next use.
    checkOnce(digest, header).catch(() => undefined);
  };

  const lookup = (
    header: string | undefined,
  ): { digest: string; hit: Remembered | null } | null => {
    if (header === undefined || header.length > MAX_HEADER) return null;
    const digest = digestOf(header);
    const hit = cache.get(digest);
    return { digest, hit: hit !== undefined && hit.until > now() ? hit : null };
  };

  return {
    remembered(header, connection) {
      if (header === undefined) return null;
      const last = connection === undefined ? undefined : connections.get(connection);
      if (last !== undefined && last.entry.until > now() && sameText(last.header, header)) {
        if (last.entry.until - now() <= renewWithinMs)
          renewSoon(last.entry, digestOf(header), header);
        return last.entry.user;
      }
      const found = lookup(header);
      if (found?.hit == null) return null;
      renewSoon(found.hit, found.digest, header);
      if (connection !== undefined) connections.set(connection, { header, entry: found.hit });
      return found.hit.user;
    },
    async verify(header, connection) {
      const found = lookup(header);
      if (found === null || header === undefined) return null;
      if (found.hit !== null) {
        renewSoon(found.hit, found.digest, header);
        return found.hit.user;
      }
      const user = await checkOnce(found.digest, header);
      const entry = cache.get(found.digest);
      if (user !== null && entry !== undefined && connection !== undefined)
        connections.set(connection, { header, entry });
      return user;
    },
  };
}
