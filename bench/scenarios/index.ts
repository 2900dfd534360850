import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MODULES } from '../../src/modules/index.js';
import { coreScenarios } from './core.js';
import type { Scenario } from './types.js';

/** What a module's `<name>.bench.ts` exports. */
interface ModuleBench {
  scenarios: Scenario[];
  /** Run after the other modules' (images: their uploads weigh on the disk of what follows). */
  last?: boolean;
}

/**
 * Every scenario `npm run bench` runs, in order: the core's first (the first is the ceiling),
 * then each module's `src/modules/<name>/<name>.bench.ts`, in the modules' order.
 */
export async function loadScenarios(): Promise<Scenario[]> {
  const benches: ModuleBench[] = [];
  for (const module of MODULES) {
    const file = new URL(
      `../../src/modules/${module.name}/${module.name}.bench.ts`,
      import.meta.url,
    );
    if (!existsSync(fileURLToPath(file))) continue;
    benches.push((await import(file.href)) as ModuleBench);
  }
  const ordered = [...benches.filter((b) => !b.last), ...benches.filter((b) => b.last)];
  return [...coreScenarios, ...ordered.flatMap((b) => b.scenarios)];
}
