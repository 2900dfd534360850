import { createHash, randomBytes, scrypt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createVerifier,
  hashPassword,
  keyedHasher,
  sameText,
} from '../../src/modules/tax/tax.auth.js';

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

describe('Basic credentials verifier', () => {
  async function fixture() {
    let clock = 0;
    let derivations = 0;
    const verifier = createVerifier({
      users: { alice: await hashPassword('s3cret', { N: 1024, r: 8, p: 1 }) },
      cacheMs: 1000,
      now: () => clock,
      derive: (password, salt, length, options) => {
        derivations++;
        return new Promise((resolve, reject) => {
          scrypt(password, salt, length, options, (err, key) => {
            if (err) reject(err);
            else resolve(key);
          });
        });
      },
    });
    return {
      verifier,
      derivations: () => derivations,
      advance: (ms: number) => (clock += ms),
    };
  }

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
    f.advance(999);
    expect(await f.verifier.verify(good)).toBe('alice');
    expect(f.derivations()).toBe(1);
    f.advance(1);
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
