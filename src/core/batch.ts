/**
 * Group commit: requests that arrive together are written by one call (one transaction), in
 * arrival order. On SQLite, with its one writer, the lock and the commit are then paid once per
 * group instead of once per request. A request that arrives while a group is being written
 * joins the next one.
 */

interface Pending<I, O> {
  item: I;
  resolve: (outcome: O) => void;
  reject: (err: unknown) => void;
}

/**
 * Returns `submit(item)`, which resolves with the outcome `write` gives that item. `write` gets
 * at most `max` items, in arrival order, and returns one outcome per item, in the same order; if
 * it throws, every request of the group fails with its error.
 */
export function groupCommit<I, O>(
  max: number,
  write: (items: I[]) => Promise<O[]>,
): (item: I) => Promise<O> {
  const pending: Pending<I, O>[] = [];
  let writing = false;

  async function drain(): Promise<void> {
    try {
      while (pending.length > 0) {
        const group = pending.splice(0, max);
        try {
          const outcomes = await write(group.map((p) => p.item));
          group.forEach((p, i) => {
            if (i < outcomes.length) p.resolve(outcomes[i] as O);
            else p.reject(new Error('group commit: the writer returned fewer outcomes than items'));
          });
        } catch (err) {
          for (const p of group) p.reject(err);
        }
      }
    } finally {
      writing = false;
    }
  }

  return (item) =>
    new Promise<O>((resolve, reject) => {
      pending.push({ item, resolve, reject });
      if (!writing) {
        writing = true;
        // After this turn of the event loop, so that the requests read together share the group.
        setImmediate(() => void drain());
      }
    });
}
