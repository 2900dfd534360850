/**
 * The modules of this build, in the order they are mounted and listed: the only place that names
 * them all. Configuration, the CLI, the app and the bench take them from here; adding a module is
 * its folder plus one line below (see ./README.md).
 */
import { imagesModule } from './images/index.js';
import { marketModule } from './market/index.js';
import { numbersModule } from './numbers/index.js';
import { queueModule } from './queue/index.js';
import { taxModule } from './tax/index.js';

export const MODULES = [marketModule, imagesModule, queueModule, numbersModule, taxModule] as const;
