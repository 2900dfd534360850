import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderSettingsDoc, SETTINGS_DOC } from '../scripts/settings-doc.js';
import { loadConfig, SETTINGS } from '../src/config.js';
import { blobStoreOf, ConfigError, redactConfig } from '../src/core/config.js';

function dirWithYaml(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'agora-config-'));
  writeFileSync(path.join(dir, 'agora.yaml'), text);
  return dir;
}

describe('loadConfig', () => {
  it('uses the documented defaults when nothing is configured', () => {
    const config = loadConfig({ env: {}, cwd: mkdtempSync(path.join(tmpdir(), 'agora-config-')) });
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(8080);
    expect(config.data_dir).toBe('./data');
    expect(config.db).toBe('');
    expect(config.modules).toEqual(['all']);
    expect(config.realtime.history).toBe(1000);
  });

  it('reads a list written as one string in agora.yaml, as from the environment', () => {
    expect(loadConfig({ env: {}, cwd: dirWithYaml('modules: tax\n') }).modules).toEqual(['tax']);
    expect(loadConfig({ env: {}, cwd: dirWithYaml('modules: all\n') }).modules).toEqual(['all']);
    expect(
      loadConfig({ env: {}, cwd: dirWithYaml('modules: market, tax\ntrust_proxy: 10.0.0.1\n') }),
    ).toMatchObject({ modules: ['market', 'tax'], trust_proxy: ['10.0.0.1'] });
    expect(() => loadConfig({ env: {}, cwd: dirWithYaml('modules: taxes\n') })).toThrow(
      /Invalid setting "modules.0" \(from agora.yaml\)/,
    );
  });

  it('keeps images where every node can read them on a server database', () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'agora-config-'));
    const pg = 'postgres://agora@db.internal/agora';
    expect(blobStoreOf(loadConfig({ env: {}, cwd }))).toBe('fs');
    expect(blobStoreOf(loadConfig({ env: {}, cwd, flags: { db: pg } }))).toBe('db');
    expect(() =>
      loadConfig({ env: { AGORA_BLOBS_STORE: 'fs' }, cwd, flags: { db: 'mysql://root@db/agora' } }),
    ).toThrow(/^Invalid setting "blobs.store" \(from AGORA_BLOBS_STORE\): fs with a PostgreSQL/);
    const shared = loadConfig({
      env: { AGORA_BLOBS_STORE: 'fs', AGORA_BLOBS_DIR: '/mnt/shared/blobs' },
      cwd,
      flags: { db: pg },
    });
    expect(blobStoreOf(shared)).toBe('fs');
  });

  it('layers defaults < agora.yaml < AGORA_* env < CLI flags', () => {
    const cwd = dirWithYaml('port: 9001\nhost: 0.0.0.0\ndata_dir: /srv/yaml\nlog_level: warn\n');
    const config = loadConfig({
      cwd,
      env: { AGORA_PORT: '9002', AGORA_DATA_DIR: '/srv/env' },
      flags: { port: '9003' },
    });
    expect(config.port).toBe(9003); // flag beats env and file
    expect(config.data_dir).toBe('/srv/env'); // env beats file
    expect(config.host).toBe('0.0.0.0'); // file beats default
    expect(config.log_level).toBe('warn');
  });

  it('reads nested settings from env and comma lists', () => {
    const config = loadConfig({
      cwd: tmpdir(),
      configFile: path.join(dirWithYaml(''), 'agora.yaml'),
      env: {
        AGORA_REALTIME_HISTORY: '50',
        AGORA_TRUST_PROXY: '10.0.0.1, 10.0.0.2',
        AGORA_LOG_PRETTY: 'yes',
      },
    });
    expect(config.realtime.history).toBe(50);
    expect(config.realtime.heartbeat_ms).toBe(15_000);
    expect(config.trust_proxy).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(config.log_pretty).toBe(true);
  });

  it('names the bad setting and where it came from', () => {
    expect(() => loadConfig({ env: { AGORA_PORT: 'eighty' }, cwd: tmpdir() })).toThrow(
      /Invalid setting "port" \(from AGORA_PORT\).*"eighty"/,
    );
    expect(() => loadConfig({ env: {}, cwd: tmpdir(), flags: { port: '70000' } })).toThrow(
      /"port" \(from --port\)/,
    );
    expect(() => loadConfig({ env: { AGORA_DB: 'oracle://x' }, cwd: tmpdir() })).toThrow(
      /"db" \(from AGORA_DB\)/,
    );
  });

  it('rejects unknown keys in the config file instead of ignoring a typo', () => {
    const cwd = dirWithYaml('prot: 8081\n');
    expect(() => loadConfig({ env: {}, cwd })).toThrow(/"prot".*unknown setting/);
    const nested = dirWithYaml('realtime:\n  histroy: 5\n');
    expect(() => loadConfig({ env: {}, cwd: nested })).toThrow(
      /"realtime.histroy".*unknown setting/,
    );
  });

  it('fails clearly on an explicit config file that does not exist or is not YAML', () => {
    expect(() =>
      loadConfig({ env: {}, cwd: tmpdir(), configFile: '/nonexistent/agora.yaml' }),
    ).toThrow(ConfigError);
    const cwd = dirWithYaml('port: [1,\n');
    expect(() => loadConfig({ env: {}, cwd })).toThrow(/not valid YAML/);
  });

  it('returns a deeply frozen object', () => {
    const config = loadConfig({ env: {}, cwd: tmpdir() });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.realtime)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('masks secrets when shown to an administrator', () => {
    const config = loadConfig({
      env: { AGORA_ADMIN_TOKEN: 's3cret', AGORA_DB: 'postgres://agora:hunter2@db:5432/agora' },
      cwd: tmpdir(),
    });
    const shown = JSON.stringify(redactConfig(config));
    expect(shown).not.toContain('s3cret');
    expect(shown).not.toContain('hunter2');
    expect(shown).toContain('postgres://agora:***@db:5432/agora');
  });
});

describe('documentation', () => {
  it('docs/settings.md is what the settings schema writes (npm run docs:settings)', async () => {
    const written = readFileSync(SETTINGS_DOC, 'utf8');
    expect(written).toBe(await renderSettingsDoc());
    for (const setting of SETTINGS) expect(written).toContain(`\`${setting.env}\``);
  });

  it('describes every setting', () => {
    expect(SETTINGS.filter((s) => s.description === '').map((s) => s.key)).toEqual([]);
  });
});
