/**
 * The numbers module: `GET /total`, the exact sum of a huge list from a slow upstream, computed
 * in slices so the server never stops answering; `POST /total` for a list in the body; and
 * `GET /numbers`, a streaming upstream of its own. The server part is numbers.plugin.ts.
 */
import { defineModule } from '../../core/module.js';
import { NumbersConfig } from './numbers.config.js';

export const numbersModule = defineModule({
  name: 'numbers',
  title: 'Numbers',
  description:
    'GET /total: the exact sum of a huge list from a slow upstream, without ever blocking the server.',
  defaultPrefix: '/numbers',
  page: '/',
  config: NumbersConfig,
  load: async () => (await import('./numbers.plugin.js')).numbersRuntime,
});
