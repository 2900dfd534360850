/**
 * The module recipe (src/modules/README.md): a module is its folder plus one line in a list. The
 * fixture module in test/fixtures/modules/hello is mounted here through that list alone, and gets
 * its settings, variables, flags, migrations, typed tables, commands and error envelope.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { renderSettingsDoc } from '../scripts/settings-doc.js';
import { buildApp, selectModules } from '../src/app.js';
import { createProgram } from '../src/cli.js';
import { loadConfig } from '../src/core/config.js';
import { composeConfigSchema, settingsOf } from '../src/core/settings.js';
import { MODULES } from '../src/modules/index.js';
import { helloModule } from './fixtures/modules/hello/index.js';
import { createTestDatabase, tempDir, testLogger, type TestDatabase } from './helper.js';

/** The one line: the build's list with the new module added. */
const WITH_HELLO = [...MODULES, helloModule] as const;

describe('a module added by one line in the list', () => {
  let database: TestDatabase;
  let app: FastifyInstance;

  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
    const config = loadConfig({
      modules: WITH_HELLO,
      env: { AGORA_HELLO_GREETING: 'bonjour', AGORA_HELLO_PREFIX: '/salut' },
      cwd: tempDir(),
      overrides: { db: database.url, data_dir: tempDir(), modules: ['hello'] },
    });
    expect(config.hello).toEqual({ greeting: 'bonjour', times: 1 });
    app = await buildApp(config, {
      logger: testLogger(),
      modules: selectModules(config, WITH_HELLO),
    });
  });

  afterAll(async () => {
    await app.close();
    await database.drop();
  });

  it('is served at its configured prefix with its settings, migrated tables and envelope', async () => {
    const first = await app.inject({
      method: 'POST',
      url: '/salut/greet',
      payload: { name: 'Ada' },
    });
    expect(first.json()).toEqual({ text: 'bonjour, Ada', greeted: 1 });
    const second = await app.inject({
      method: 'POST',
      url: '/salut/greet',
      payload: { name: 'Bo' },
    });
    expect(second.json()).toEqual({ text: 'bonjour, Bo', greeted: 2 });
    const bad = await app.inject({ method: 'POST', url: '/salut/greet', payload: {} });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ oops: expect.any(String) });
    // Only the modules the configuration switches on are mounted.
    expect((await app.inject({ url: '/market/query/1' })).statusCode).toBe(404);
  });

  it('has its settings validated, named and documented like the core’s', () => {
    expect(() =>
      loadConfig({ modules: WITH_HELLO, env: { AGORA_HELLO_TIMES: '9' }, cwd: tempDir() }),
    ).toThrow(/Invalid setting "hello.times" \(from AGORA_HELLO_TIMES\)/);
    const settings = settingsOf(composeConfigSchema(WITH_HELLO));
    expect(settings.filter((s) => s.key.startsWith('hello.'))).toMatchObject([
      { env: 'AGORA_HELLO_GREETING', description: 'what it says', default: 'hello' },
      { env: 'AGORA_HELLO_TIMES', type: 'integer', default: 1 },
    ]);
    expect(settings.find((s) => s.key === 'prefixes.hello')?.env).toBe('AGORA_HELLO_PREFIX');
  });

  it('appears in the settings table, the module choices and the command line', async () => {
    expect(await renderSettingsDoc(settingsOf(composeConfigSchema(WITH_HELLO)))).toContain(
      '`AGORA_HELLO_GREETING`',
    );
    const program = createProgram(WITH_HELLO);
    expect(program.commands.map((c) => c.name())).toContain('hello');
    expect(createProgram().commands.map((c) => c.name())).not.toContain('hello');
    expect(() =>
      loadConfig({ modules: MODULES, env: { AGORA_MODULES: 'hello' }, cwd: tempDir() }),
    ).toThrow(/Invalid setting "modules.0"/);
  });
});
