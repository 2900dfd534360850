/**
 * The modules of this build, keyed by name. Each module's own folder holds its plugin; this file
 * is the only place that knows them all.
 */
import type { AgoraModule } from '../core/module.js';
import { imagesModule } from './images/index.js';
import { marketModule } from './market/index.js';
import { numbersModule } from './numbers/index.js';
import { queueModule } from './queue/index.js';
import { taxModule } from './tax/index.js';

export const MODULES: readonly AgoraModule[] = [
  marketModule,
  imagesModule,
  queueModule,
  numbersModule,
  taxModule,
];
