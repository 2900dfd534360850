/**
 * The tax module: the French income tax engine behind Basic auth, with an audit line per request,
 * a batch endpoint and `agora tax hash-password`.
 */
import type { Command } from 'commander';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../core/config.js';
import { createLogger } from '../../core/logging.js';
import type { AgoraModule } from '../../core/module.js';
import { createVerifier, hashPassword } from './tax.auth.js';
import { taxMigrations } from './migrations/index.js';
import { loadAdminData } from './tax.repository.js';
import { taxRoutes, type AuditLog } from './tax.routes.js';
import { errorBody } from './tax.schemas.js';

export { computeTax, type AdminData, type Taxpayer, type TaxResult } from './tax.engine.js';
export { AdminDataMissing } from './tax.repository.js';

function commands(program: Command, _loadConfig: () => Config): void {
  const tax = program.command('tax').description('tax module commands');
  tax
    .command('hash-password')
    .description('print the scrypt hash of a password, for tax.users in agora.yaml')
    .argument('[password]', 'the password (read from standard input when omitted)')
    .action(async (password?: string) => {
      let secret = password;
      if (secret === undefined) {
        const chunks: Buffer[] = [];
        for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
        secret = Buffer.concat(chunks)
          .toString('utf8')
          .replace(/\r?\n$/, '');
      }
      if (secret.length === 0) {
        process.stderr.write('agora tax hash-password: empty password\n');
        process.exitCode = 64;
        return;
      }
      process.stdout.write(`${await hashPassword(secret)}\n`);
    });
}

/** Audit lines go to the app's log (stdout) and, when configured, to their own file. */
function auditLog(log: FastifyBaseLogger, file: string): AuditLog {
  const fileLog = file
    ? createLogger({
        log_level: 'info',
        log_file: file,
        log_pretty: false,
        log_stdout: false,
        log_sync: true,
      })
    : null;
  return {
    write(line, message) {
      log.info(line, message);
      fileLog?.info(line, message);
    },
  };
}

export const taxModule: AgoraModule = {
  name: 'tax',
  title: 'Tax',
  description:
    'French income tax (2019 scale, 2018 income) behind Basic auth, with an audit log and a batch endpoint.',
  defaultPrefix: '/tax',
  migrations: taxMigrations,
  async plugin(app, { mount }) {
    const config = app.config.tax;
    const language = config.french_keys ? 'fr' : 'en';
    const log = app.log.child({ module: 'tax' });
    const admin = await loadAdminData(app.db);

    let users = config.users;
    if (Object.keys(users).length === 0) {
      log.warn(
        '!!! tax: no users configured: the default account admin/admin is active. ' +
          'Set tax.users in agora.yaml (agora tax hash-password makes the hashes). !!!',
      );
      users = { admin: await hashPassword('admin') };
    }
    const verifier = createVerifier({ users, cacheMs: config.auth_cache_ms });

    app.useErrorEnvelope(mount, (e) => errorBody([e.message], language));
    await app.register(taxRoutes, {
      prefix: mount === '/' ? '' : mount,
      admin,
      verifier,
      realm: config.realm,
      language,
      audit: auditLog(log, config.audit_file),
      batchMax: config.batch_max,
    });
  },
  commands,
};
