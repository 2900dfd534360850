/**
 * The modules this build knows, in the order they are mounted and listed. Configuration validates
 * `--modules` and per-module settings against this list; `./index.ts` maps each name to its plugin.
 */
export const MODULE_NAMES = [
  'market',
  'images',
  'queue',
  'numbers',
  'tax',
] as const satisfies readonly string[];
