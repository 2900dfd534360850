import { createHmac, randomBytes, scrypt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createVerifier, hashPassword, keyedHasher } from '../../src/modules/tax/tax.auth.js';

const basic = (user: string, password: string, scheme = 'Basic'): string =>
  `${scheme} ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('keyed hash of credentials', () => {
  it('is HMAC-SHA-256', () => {
    for (const key of [randomBytes(32), randomBytes(64), Buffer.alloc(0)]) {
      for (const message of ['', 'admin\u0000admin', 'é€😀'.repeat(50)]) {
        expect(keyedHasher(key)(message)).toBe(
          createHmac('sha256', key).update(message).digest('base64'),
        );
      }
    }
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
});
