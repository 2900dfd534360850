/**
 * The tax module: the French income tax engine behind Basic auth, with an audit line per request
 * and a batch endpoint. This file is all the rest of Agora sees of it; the server part
 * (tax.plugin.ts) loads with the app, the commands (`agora tax-client`, `agora tax
 * hash-password`) load what they need when they run.
 */
import { defineModule } from '../../core/module.js';
import { taxCommands } from './tax.cli.js';
import { TaxConfig } from './tax.config.js';

export const taxModule = defineModule({
  name: 'tax',
  title: 'Tax',
  description:
    'French income tax (2019 scale, 2018 income) behind Basic auth, with an audit log and a batch endpoint.',
  defaultPrefix: '/tax',
  page: '/',
  config: TaxConfig,
  commands: (program) => {
    taxCommands(program);
  },
  load: async () => (await import('./tax.plugin.js')).taxRuntime,
});
