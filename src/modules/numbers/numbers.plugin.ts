/** The numbers module's server part: the total service and its routes. */
import { ConfigError } from '../../core/config.js';
import { defaultEnvelope } from '../../core/errors.js';
import type { ModuleRuntime } from '../../core/module.js';
import type { NumbersConfig } from './numbers.config.js';
import { numbersRoutes, totalRoutes } from './numbers.routes.js';
import { createTotalService } from './numbers.service.js';

export const numbersRuntime: ModuleRuntime<NumbersConfig> = {
  async plugin(app, { routePrefix: prefix, config }) {
    if (config.source === 'http' && config.upstream_url === '') {
      throw new ConfigError('numbers.source is http but numbers.upstream_url is empty');
    }
    const service = createTotalService({ config, metrics: app.metrics });
    app.addHook('onClose', async () => {
      await service.close();
    });
    // Outside the module's prefix: its errors keep the default envelope whatever is at `/`.
    app.useErrorEnvelope(config.total_path, defaultEnvelope);
    await app.register(totalRoutes, { prefix: config.total_path, config, service });
    await app.register(numbersRoutes, { prefix, config, service });
  },
};
