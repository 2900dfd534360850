/** Waiting for something that may never answer, for a bounded time. */

/** What `within` rejects with when the time runs out. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/** `promise`, or a `TimeoutError` once `ms` have passed (`what` names it in the message). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new TimeoutError(`${what}: no answer within ${ms} ms`));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
