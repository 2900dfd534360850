/**
 * The numbers module: `GET /total`, the exact sum of a huge list from a slow upstream, computed
 * in slices so the server never stops answering; `POST /total` for a list in the body; and
 * `GET /numbers`, a streaming upstream of its own.
 */
import { ConfigError } from '../../core/config.js';
import type { AgoraModule } from '../../core/module.js';
import { numbersRoutes, totalRoutes } from './numbers.routes.js';
import { TotalService } from './numbers.service.js';

export { ArrayParseError, ArraySummer, ExactSum } from './numbers.sum.js';

export const numbersModule: AgoraModule = {
  name: 'numbers',
  title: 'Numbers',
  description:
    'GET /total: the exact sum of a huge list from a slow upstream, without ever blocking the server.',
  defaultPrefix: '/numbers',
  page: '/',
  async plugin(app, { mount }) {
    const config = app.config.numbers;
    if (config.source === 'http' && config.upstream_url === '') {
      throw new ConfigError('numbers.source is http but numbers.upstream_url is empty');
    }
    const service = new TotalService({ config, metrics: app.metrics });
    app.addHook('onClose', async () => {
      await service.close();
    });
    await app.register(totalRoutes, { prefix: config.total_path, config, service });
    await app.register(numbersRoutes, {
      prefix: mount === '/' ? '' : mount,
      config,
      service,
    });
  },
};
