/**
 * The CLI commands of this build's modules. Unlike modules/index.ts this loads no server code:
 * a command loads what it needs when it runs, so `agora images meta …` starts at once.
 */
import type { Command } from 'commander';
import type { Config, LoadConfigOptions } from '../core/config.js';
import { imagesCommands } from './images/images.cli.js';
import { marketCommands } from './market/market.cli.js';
import { taxCommands } from './tax/tax.cli.js';

/**
 * Adds every module's `agora …` commands; `loadConfig` reads the configuration when asked, from
 * the command's own flags and config file besides agora.yaml and the environment.
 */
export function addModuleCommands(
  program: Command,
  loadConfig: (sources: Pick<LoadConfigOptions, 'flags' | 'configFile'>) => Promise<Config>,
): void {
  marketCommands(program, loadConfig);
  imagesCommands(program);
  taxCommands(program);
}
