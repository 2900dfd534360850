/**
 * Failed logins, counted per client, with rate-limiter-flexible (its memory limiter is the
 * library's documented answer to login brute force): each wrong credential costs the client a
 * point; a client with none left is refused before any hashing, until its window ends. A correct
 * login clears the count. Missing credentials are not counted: a browser's first request has none.
 */
import { RateLimiterCluster, RateLimiterMemory } from 'rate-limiter-flexible';
import { isClusterWorker } from '../../core/cluster/ipc.js';

export interface LoginGuard {
  /** Seconds `client` must wait before trying again; 0: it may try now. */
  waitSeconds(client: string): Promise<number>;
  failed(client: string): Promise<void>;
  succeeded(client: string): Promise<void>;
}

export function createLoginGuard(options: { failures: number; windowS: number }): LoginGuard {
  const limits = { points: options.failures, duration: options.windowS };
  // The workers of `--workers N` share one count, held by their primary: a client gets the same
  // number of tries whichever worker it reaches.
  const limiter = isClusterWorker()
    ? new RateLimiterCluster({ ...limits, keyPrefix: 'agora-tax-logins', timeoutMs: 3000 })
    : new RateLimiterMemory(limits);
  return {
    async waitSeconds(client) {
      const state = await limiter.get(client);
      if (state === null || state.consumedPoints < options.failures) return 0;
      return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
    },
    async failed(client) {
      await limiter.penalty(client, 1);
    },
    async succeeded(client) {
      await limiter.delete(client);
    },
  };
}
