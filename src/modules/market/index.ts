/**
 * The market module: products, stock, purchases that never oversell, live notifications. This
 * file is all the rest of Agora sees of it; the server part (market.plugin.ts) loads with the app.
 */
import { defineModule } from '../../core/module.js';
import { marketCommands } from './market.cli.js';
import { MarketConfig } from './market.config.js';

export const marketModule = defineModule({
  name: 'market',
  title: 'Market',
  description:
    'Products, stock and purchases that never oversell, with live price and new-product notifications.',
  defaultPrefix: '/market',
  page: '/',
  config: MarketConfig,
  commands: marketCommands,
  load: async () => (await import('./market.plugin.js')).marketRuntime,
});
