import { createHash, randomBytes, scrypt, scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createVerifier,
  hashPassword,
  keyedHasher,
  sameText,
} from '../../src/modules/tax/tax.auth.js';
import { createHasher, HasherBusy } from '../../src/modules/tax/tax.hasher.js';

const basic = (user: string, password: string, scheme = 'Basic'): string =>
  `${scheme} ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('keyed hash of credentials', () => {
  it('is SHA-256 of the secret and the message: stable, and different for another key or message', () => {
    const key = randomBytes(32);
    const digest = keyedHasher(key);
    const header = 'Basic YWRtaW46YWRtaW4=';
    const messages = ['', header, 'Basic YWRtaW46YWRtaW5=', 'é€😀'.repeat(50)];
    const digests = messages.map((m) => digest(m));
    expect(new Set(digests).size).toBe(messages.length);
    messages.forEach((m, i) => {
      expect(digest(m)).toBe(digests[i]);
      expect(Buffer.from(digests[i] ?? '', 'base64')).toHaveLength(32);
      expect(keyedHasher(randomBytes(32))(m)).not.toBe(digests[i]);
      // Without the key, the message's own digest says nothing about the cache key.
      expect(createHash('sha256').update(m).digest('base64')).not.toBe(digests[i]);
    });
    expect(digests[1]).toBe(
      createHash('sha256')
        .update(key.toString('base64') + header)
        .digest('base64'),
    );
  });

  it('refuses a short key', () => {
    expect(() => keyedHasher(randomBytes(8))).toThrow(/16/);
  });
});

/** A verifier with a clock the test moves and a derivation it counts. */
async function fixture() {
  let clock = 0;
  let derivations = 0;
  let last: Promise<unknown> = Promise.resolve();
  const verifier = createVerifier({
    users: { alice: await hashPassword('s3cret', { N: 1024, r: 8, p: 1 }) },
    cacheMs: 1000,
    now: () => clock,
    derive: (password, salt, length, options) => {
      derivations++;
      const derived = new Promise<Buffer>((resolve, reject) => {
        scrypt(password, salt, length, options, (err, key) => {
          if (err) reject(err);
          else resolve(key);
        });
      });
      last = derived;
      return derived;
    },
  });
  return {
    verifier,
    derivations: () => derivations,
    advance: (ms: number) => (clock += ms),
    /** Resolves once the last derivation and what follows it (remembering) are done. */
    settled: async () => {
      await last;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

describe('Basic credentials verifier', () => {
  it('accepts the right password, refuses wrong ones, unknown users and malformed headers', async () => {
    const { verifier } = await fixture();
    expect(await verifier.verify(basic('alice', 's3cret'))).toBe('alice');
    expect(await verifier.verify(basic('alice', 'S3cret'))).toBeNull();
    expect(await verifier.verify(basic('bob', 's3cret'))).toBeNull();
    expect(await verifier.verify(undefined)).toBeNull();
    expect(await verifier.verify('Bearer abc')).toBeNull();
    expect(await verifier.verify('Basic !!!')).toBeNull();
    expect(await verifier.verify(basic('alice', 'x'.repeat(3000)))).toBeNull();
  });

  it('remembers a success for the cache time only, and never a failure', async () => {
    const f = await fixture();
    const good = basic('alice', 's3cret');
    expect(f.verifier.remembered(good)).toBeNull();
    expect(await f.verifier.verify(good)).toBe('alice');
    expect(f.verifier.remembered(good)).toBe('alice');
    expect(await f.verifier.verify(good)).toBe('alice');
    expect(f.derivations()).toBe(1);
    f.advance(700);
    expect(await f.verifier.verify(good)).toBe('alice');
    expect(f.derivations()).toBe(1);
    // Unused in its last quarter, it is not renewed, and ends.
    f.advance(300);
    expect(f.verifier.remembered(good)).toBeNull();
    expect(await f.verifier.verify(good)).toBe('alice');
    expect(f.derivations()).toBe(2);
    // The same credentials spelt differently are checked once more, then remembered too.
    expect(await f.verifier.verify(basic('alice', 's3cret', 'basic'))).toBe('alice');
    expect(f.derivations()).toBe(3);
    const bad = basic('alice', 'nope');
    expect(await f.verifier.verify(bad)).toBeNull();
    expect(await f.verifier.verify(bad)).toBeNull();
    expect(f.verifier.remembered(bad)).toBeNull();
    expect(f.derivations()).toBe(5);
    // An unknown user costs a derivation too (against a decoy): no timing tells who exists.
    expect(await f.verifier.verify(basic('mallory', 's3cret'))).toBeNull();
    expect(f.derivations()).toBe(6);
  });

  it('lets a connection skip the digest for the header it had verified, never for another', async () => {
    const f = await fixture();
    const good = basic('alice', 's3cret');
    const connection = {};
    const other = {};
    expect(await f.verifier.verify(good, connection)).toBe('alice');
    expect(f.verifier.remembered(good, connection)).toBe('alice');
    // Another header on the same connection (a proxy's, say) is judged on its own.
    expect(f.verifier.remembered(basic('alice', 's3creT'), connection)).toBeNull();
    expect(await f.verifier.verify(basic('alice', 's3creT'), connection)).toBeNull();
    expect(f.verifier.remembered(good, connection)).toBe('alice');
    // Another connection with the same header finds it in the shared cache, and remembers it.
    expect(f.verifier.remembered(good, other)).toBe('alice');
    expect(f.derivations()).toBe(2);
    // Both expire with the cache entry.
    f.advance(1000);
    expect(f.verifier.remembered(good, connection)).toBeNull();
    expect(f.verifier.remembered(good, other)).toBeNull();
  });
});

describe('Basic credentials verifier under load', () => {
  it('hashes once for many concurrent checks of the same header, right or wrong', async () => {
    const f = await fixture();
    const good = await Promise.all(
      Array.from({ length: 20 }, () => f.verifier.verify(basic('alice', 's3cret'))),
    );
    expect(new Set(good)).toEqual(new Set(['alice']));
    expect(f.derivations()).toBe(1);
    const bad = await Promise.all(
      Array.from({ length: 20 }, () => f.verifier.verify(basic('alice', 'guess'))),
    );
    expect(new Set(bad)).toEqual(new Set([null]));
    expect(f.derivations()).toBe(2);
  });

  it('renews a login used in its last quarter, in the background and once, so it never lapses', async () => {
    const f = await fixture();
    const good = basic('alice', 's3cret');
    const connection = {};
    expect(await f.verifier.verify(good, connection)).toBe('alice');
    f.advance(700);
    expect(f.verifier.remembered(good, connection)).toBe('alice');
    expect(f.derivations()).toBe(1);
    // Last quarter: answered from memory at once, renewed behind the scenes, one hash for all.
    f.advance(100);
    expect(f.verifier.remembered(good, connection)).toBe('alice');
    expect(f.verifier.remembered(good)).toBe('alice');
    expect(await f.verifier.verify(good)).toBe('alice');
    expect(f.derivations()).toBe(2);
    await f.settled();
    // Past the first end (1000): still remembered, on the connection and in the shared cache.
    f.advance(500);
    expect(f.verifier.remembered(good, connection)).toBe('alice');
    expect(f.verifier.remembered(good)).toBe('alice');
    expect(f.derivations()).toBe(2);
  });
});

describe('credential hashing thread', () => {
  it('derives what crypto.scrypt derives, off the main thread', async () => {
    const hasher = createHasher({ queue: 4 });
    try {
      const salt = randomBytes(16);
      const options = { N: 1024, r: 8, p: 1 };
      const key = await hasher.derive('s3cret', salt, 32, options);
      expect(key.equals(scryptSync('s3cret', salt, 32, options))).toBe(true);
    } finally {
      await hasher.close();
    }
  });

  it('refuses a check at once when its queue is full, and takes more once it drains', async () => {
    const hasher = createHasher({ queue: 2 });
    try {
      const salt = randomBytes(16);
      const options = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
      const running = [0, 1, 2].map(() => hasher.derive('x', salt, 32, options));
      await expect(hasher.derive('x', salt, 32, options)).rejects.toBeInstanceOf(HasherBusy);
      await Promise.all(running);
      await expect(hasher.derive('x', salt, 32, options)).resolves.toHaveLength(32);
    } finally {
      await hasher.close();
    }
  });
});

describe('constant-time text comparison', () => {
  it('tells equal strings from different ones, whatever the length', () => {
    expect(sameText('', '')).toBe(true);
    expect(sameText('Basic YWxpY2U6eA==', 'Basic YWxpY2U6eA==')).toBe(true);
    expect(sameText('Basic YWxpY2U6eA==', 'Basic YWxpY2U6eB==')).toBe(false);
    expect(sameText('Basic YWxpY2U6eA==', 'Basic YWxpY2U6eA=')).toBe(false);
    expect(sameText('a', 'b')).toBe(false);
    expect(sameText('\u00e9', 'e')).toBe(false);
  });
});
