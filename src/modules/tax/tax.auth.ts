/**
 * HTTP Basic authentication against scrypt hashes from configuration. Checks take the same time
 * whether the user exists or not, compare in constant time, and a successful check is remembered
 * for a short while under a keyed hash of the credentials, so hashing (slow on purpose) does not
 * dominate the cost of a request.
 */
import {
  createHmac,
  randomBytes,
  scrypt as scryptCallback,
  timingSafeEqual,
  type ScryptOptions,
} from 'node:crypto';

const scrypt = (
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

/** `Authorization: Basic …` → user and password, or null. */
export function parseBasic(header: string | undefined): { user: string; password: string } | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return null;
  const decoded = Buffer.from(m[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export interface Verifier {
  /** The user name when the header holds valid credentials, else null. */
  verify(header: string | undefined): Promise<string | null>;
}

export interface VerifierOptions {
  users: Readonly<Record<string, string>>;
  cacheMs: number;
  now?: () => number;
  maxCached?: number;
}

export function createVerifier(options: VerifierOptions): Verifier {
  const now = options.now ?? Date.now;
  const maxCached = options.maxCached ?? 10_000;
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
  // The cache holds keyed digests, never passwords; the key lives only in this process.
  const cacheKey = randomBytes(32);
  const cache = new Map<string, number>();

  return {
    async verify(header) {
      const credentials = parseBasic(header);
      if (!credentials || credentials.password.length > 1024) return null;
      const digest = createHmac('sha256', cacheKey)
        .update(`${credentials.user}\u0000${credentials.password}`)
        .digest('base64');
      const until = cache.get(digest);
      if (until !== undefined && until > now()) return credentials.user;
      const stored = users.get(credentials.user);
      const target = stored ?? decoy;
      const key = await scrypt(credentials.password, target.salt, target.key.length, {
        N: target.N,
        r: target.r,
        p: target.p,
        maxmem: 256 * target.N * target.r,
      });
      if (!stored || !timingSafeEqual(key, target.key)) return null;
      if (options.cacheMs > 0) {
        if (cache.size >= maxCached) {
          const t = now();
          for (const [k, v] of cache) if (v <= t) cache.delete(k);
          if (cache.size >= maxCached) cache.clear();
        }
        cache.set(digest, now() + options.cacheMs);
      }
      return credentials.user;
    },
  };
}
