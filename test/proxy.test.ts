/**
 * Behind a reverse proxy: a request the proxy forwarded is never taken for a local client, and
 * the operator is told once to set `trust_proxy`.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { UNTRUSTED_PROXY_WARNING } from '../src/core/proxy.js';
import { buildTestApp, type ConfigOverrides } from './helper.js';

/** An app whose log lines are collected. */
async function appWithLog(config: ConfigOverrides) {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino(
    { level: 'warn' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
        done();
      },
    }),
  );
  const t = await buildTestApp({ config, build: { logger } });
  return { t, lines };
}

const adminConfig = (t: Awaited<ReturnType<typeof appWithLog>>['t'], headers = {}) =>
  t.app.inject({ url: '/admin/config', remoteAddress: '127.0.0.1', headers });

describe('behind a proxy Agora was not told to trust', () => {
  it('refuses forwarded requests on admin routes, even from loopback, and warns once', async () => {
    const { t, lines } = await appWithLog({});
    try {
      expect((await adminConfig(t)).statusCode).toBe(200);
      for (const headers of [
        { 'x-forwarded-for': '203.0.113.9' },
        { forwarded: 'for=203.0.113.9;proto=https' },
        { 'x-real-ip': '203.0.113.9' },
      ]) {
        const res = await adminConfig(t, headers);
        expect(res.statusCode).toBe(403);
        expect(res.json()).toMatchObject({ error: { code: 'ADMIN_FORWARDED' } });
      }
      const refused = await t.app.inject({
        method: 'PUT',
        url: '/market/replenish/1',
        remoteAddress: '127.0.0.1',
        headers: { 'x-forwarded-for': '203.0.113.9' },
        payload: { amount: 5 },
      });
      expect(refused.statusCode).toBe(403);
      expect(lines.filter((l) => l.msg === UNTRUSTED_PROXY_WARNING)).toHaveLength(1);
    } finally {
      await t.close();
    }
  });

  it('still admits the admin token', async () => {
    const { t } = await appWithLog({ admin_token: 's3cret-token' });
    try {
      const res = await adminConfig(t, {
        'x-forwarded-for': '203.0.113.9',
        authorization: 'Bearer s3cret-token',
      });
      expect(res.statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('behind a trusted proxy', () => {
  it('judges the forwarded client: remote refused, local admitted, and no warning', async () => {
    const { t, lines } = await appWithLog({ trust_proxy: ['127.0.0.1'] });
    try {
      const remote = await adminConfig(t, { 'x-forwarded-for': '203.0.113.9' });
      expect(remote.statusCode).toBe(403);
      expect(remote.json()).toMatchObject({ error: { code: 'ADMIN_LOOPBACK_ONLY' } });
      expect((await adminConfig(t, { 'x-forwarded-for': '127.0.0.1' })).statusCode).toBe(200);
      expect(lines.filter((l) => l.msg === UNTRUSTED_PROXY_WARNING)).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
