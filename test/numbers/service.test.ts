import { Registry } from 'prom-client';
import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { NumbersConfig } from '../../src/modules/numbers/numbers.config.js';
import { createTotalService } from '../../src/modules/numbers/numbers.service.js';

describe('TotalService cache', () => {
  it('reuses a total for cache_ttl_ms on its clock, then asks the source again', async () => {
    let now = 1_000_000;
    const config = Value.Default(NumbersConfig, { count: 10, delay_ms: 0, cache_ttl_ms: 1000 });
    const service = createTotalService({
      config: config as NumbersConfig,
      metrics: new Registry(),
      now: () => now,
    });
    expect((await service.total()).json).toBe('45');
    now += 999;
    expect((await service.total()).json).toBe('45');
    expect(service.stats()).toMatchObject({ upstreamCalls: 1, cacheHits: 1 });
    now += 1;
    await service.total();
    expect(service.stats()).toMatchObject({ upstreamCalls: 2, cacheHits: 1 });
    await service.close();
  });

  it('caches nothing by default', async () => {
    const config = Value.Default(NumbersConfig, { count: 10, delay_ms: 0 });
    const service = createTotalService({
      config: config as NumbersConfig,
      metrics: new Registry(),
    });
    await service.total();
    await service.total();
    expect(service.stats()).toMatchObject({ upstreamCalls: 2, cacheHits: 0 });
    await service.close();
  });
});
