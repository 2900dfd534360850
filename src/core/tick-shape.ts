/**
 * Keeps one of Node's `process.nextTick` queue entries alive for the life of the process, and
 * with it the chain of hidden classes (V8 maps) that every entry is built through.
 *
 * Node 20 builds each entry as an object literal: two symbol keys (the async ids), then
 * `callback` and `args`. In one server process in three, V8's feedback for three of these four
 * stores in `nextTick` had gone megamorphic during warm-up (seen with `%DebugPrint`): they had
 * met more than four different maps for what is always the same shape. From then on, every tick
 * (a request schedules several) added its properties through the runtime, and `/healthz` served
 * 30 % fewer requests a second than in the other processes, for the life of the process. Why the
 * maps changed is not known. With one entry kept, its maps stay the ones every entry uses; of 30
 * processes checked since, none had a megamorphic store, against 4 of 14 before
 * (docs/development.md, "One process in three was slow").
 *
 * Where the entries do not look like that (another Node version), nothing is kept: the cost of
 * being wrong is the speed it was before, never a different behaviour.
 */
import { createHook } from 'node:async_hooks';

/** The entry kept; null where none could be (see above); undefined until the first call. */
let kept: object | null | undefined;

/** A `nextTick` queue entry, caught by a hook that is enabled around one `nextTick` call. */
export function oneTickObject(): object | undefined {
  let entry: object | undefined;
  const hook = createHook({
    init(_asyncId, type, _triggerAsyncId, resource) {
      if (type === 'TickObject' && entry === undefined) entry = resource;
    },
  });
  hook.enable();
  try {
    process.nextTick(() => undefined);
  } finally {
    hook.disable();
  }
  return entry;
}

/**
 * Keeps the entry (once per process). Returns whether it could: false where the entries do not
 * look as described above.
 */
export function pinTickObjectShape(): boolean {
  if (kept === undefined) {
    const entry = oneTickObject();
    const looksRight =
      entry !== undefined &&
      Object.getOwnPropertySymbols(entry).length === 2 &&
      Object.keys(entry).join() === 'callback,args';
    kept = looksRight ? entry : null;
  }
  return kept !== null;
}

/** The entry kept, for the tests. */
export function keptTickEntry(): object | null | undefined {
  return kept;
}
