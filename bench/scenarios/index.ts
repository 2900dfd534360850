import { coreScenarios } from './core.js';
import { imagesScenarios } from './images.js';
import { marketScenarios } from './market.js';
import { numbersScenarios } from './numbers.js';
import { queueScenarios } from './queue.js';
import { taxScenarios } from './tax.js';
import type { Scenario } from './types.js';

/**
 * Every scenario `npm run bench` runs, in order; the first is the ceiling. Images come last:
 * their uploads write gigabytes, which would weigh on the disk of the scenarios after them.
 */
export const scenarios: Scenario[] = [
  ...coreScenarios,
  ...marketScenarios,
  ...queueScenarios,
  ...numbersScenarios,
  ...taxScenarios,
  ...imagesScenarios,
];
