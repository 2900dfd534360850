/**
 * The `agora` command line: `serve` (default), `migrate`, and each module's commands.
 * Every server setting has a flag here, an AGORA_* variable and an agora.yaml key.
 *
 * Only commander and the commands' definitions load up front; each action imports what it needs,
 * so a client command (`agora images meta …`) starts without the server, drivers or schemas.
 */
import { Command, Option } from 'commander';
import type { ServerFlags } from './cli.server.js';
import type { AgoraModule } from './core/module.js';
import { composeConfigSchema, settingsOf, type Setting } from './core/settings.js';
import { MODULES } from './modules/index.js';
import { VERSION } from './version.js';

function optionOf(setting: Setting): Option {
  const name = `--${setting.flag ?? ''}`;
  const short = setting.short ? `-${setting.short}, ` : '';
  const value =
    setting.type === 'boolean' ? '' : setting.type === 'integer' ? ' <number>' : ' <value>';
  const shown = Array.isArray(setting.default)
    ? setting.default.join(',')
    : JSON.stringify(setting.default);
  const fallback = setting.type === 'boolean' || shown === '""' ? '' : ` (default ${shown})`;
  const option = new Option(`${short}${name}${value}`, `${setting.description}${fallback}`);
  return setting.choices && setting.type !== 'list' ? option.choices(setting.choices) : option;
}

/** The `agora` program of a build made of `modules`: flags from their settings, their commands. */
export function createProgram(modules: readonly AgoraModule[] = MODULES): Command {
  const flags = settingsOf(composeConfigSchema(modules)).filter((s) => s.flag !== undefined);
  const addServerOptions = (command: Command): Command => {
    command.option('-c, --config <file>', 'configuration file (default: ./agora.yaml if present)');
    for (const setting of flags) command.addOption(optionOf(setting));
    return command;
  };
  const program = new Command('agora')
    .description('Agora: market, queue, numbers, images and tax services on one core')
    .version(VERSION)
    .showHelpAfterError();

  addServerOptions(
    program
      .command('serve', { isDefault: true })
      .description('run the HTTP server (default command)'),
  ).action(async (options: ServerFlags) => {
    await (await import('./cli.server.js')).serve(options);
  });

  addServerOptions(
    program
      .command('migrate')
      .description('bring the database schema of the enabled modules up to date'),
  ).action(async (options: ServerFlags) => {
    await (await import('./cli.server.js')).migrate(options);
  });

  for (const module of modules) {
    module.commands?.(program, {
      loadConfig: async (sources) => (await import('./config.js')).loadConfig(sources),
    });
  }
  return program;
}
