/**
 * The queue module: a fair FIFO token line with stored deadlines, bans for cheaters, a live
 * board over SSE and kitty pictures from the images module's album. This file is all the rest of
 * Agora sees of it; the server part (queue.plugin.ts) loads with the app.
 */
import { defineModule } from '../../core/module.js';
import { QueueConfig } from './queue.config.js';

export const queueModule = defineModule({
  name: 'queue',
  title: 'Queue',
  description:
    'A fair FIFO token line: take a token, claim a kitty picture on your turn; live board for every browser.',
  defaultPrefix: '/queue',
  page: '/',
  config: QueueConfig,
  load: async () => (await import('./queue.plugin.js')).queueRuntime,
});
