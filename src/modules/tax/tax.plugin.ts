/** The tax module's server part: credentials, login guard, audit log and routes. */
import type { FastifyBaseLogger } from 'fastify';
import { accessLogOf, createLogger } from '../../core/logging.js';
import type { ModuleRuntime } from '../../core/module.js';
import { createVerifier, hashPassword } from './tax.auth.js';
import { createHasher } from './tax.hasher.js';
import { createLoginGuard } from './tax.logins.js';
import { taxMigrations } from './migrations/index.js';
import { loadAdminData } from './tax.repository.js';
import { taxRoutes, type AuditLog } from './tax.routes.js';
import type { TaxConfig } from './tax.config.js';
import { errorBody } from './tax.schemas.js';
import type { TaxTables } from './tax.tables.js';
import type { TablesOf } from '../../core/db/tables.js';

/**
 * Audit lines go to the app's log (stdout) and, when configured, to their own file. They are
 * written as request lines are (`accessLogOf`): they hold nothing to redact (what they show of
 * the request is its URL, which the request line shows anyway), and their fields are serialized
 * once, for both.
 */
function auditLog(appLog: FastifyBaseLogger, file: string, nodeId: string): AuditLog {
  const log = accessLogOf(appLog).child({ module: 'tax' });
  const fileLog = file
    ? createLogger({
        node_id: nodeId,
        log_level: 'info',
        log_file: file,
        log_pretty: false,
        log_stdout: false,
        log_sync: true,
      })
    : null;
  const fileAccess = fileLog ? accessLogOf(fileLog) : null;
  const inAppLog = ['trace', 'debug', 'info'].includes(appLog.level);
  return {
    enabled: fileLog !== null || inAppLog,
    inAppLog,
    write(fields, message) {
      if (inAppLog) log.write('info', fields, message);
      fileAccess?.write('info', fields, message);
    },
  };
}

export const taxRuntime: ModuleRuntime<TaxConfig> = {
  migrations: taxMigrations,
  async plugin(app, { mount, routePrefix: prefix, config }) {
    const language = config.french_keys || config.compat ? 'fr' : 'en';
    const log = app.log.child({ module: 'tax' });
    const admin = await loadAdminData(app.db.withTables<TablesOf<TaxTables>>());

    let users = config.users;
    if (Object.keys(users).length === 0) {
      log.warn(
        '!!! tax: no users configured: the default account admin/admin is active. ' +
          'Set tax.users in agora.yaml (agora tax hash-password makes the hashes). !!!',
      );
      users = { admin: await hashPassword('admin') };
    }
    const hasher = createHasher({ queue: config.auth_queue });
    app.addHook('onClose', () => hasher.close());
    const verifier = createVerifier({
      users,
      cacheMs: config.auth_cache_ms,
      derive: hasher.derive,
    });
    const logins = createLoginGuard({
      failures: config.login_failures,
      windowS: config.login_failure_window_s,
    });

    app.useErrorEnvelope(mount, (e) => errorBody([e.message], language));
    await app.register(taxRoutes, {
      prefix,
      admin,
      verifier,
      logins,
      realm: config.realm || (config.compat ? 'Authentication Required' : 'Agora tax'),
      original: config.compat,
      language,
      audit: auditLog(app.log, config.audit_file, app.config.node_id),
      batchMax: config.batch_max,
      demoAccount: Object.keys(config.users).length === 0,
    });
  },
};
