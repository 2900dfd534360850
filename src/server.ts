/**
 * The only place that listens. Starts the app, and on SIGTERM/SIGINT shuts down gracefully:
 * stop accepting, close realtime connections, let in-flight requests finish (bounded by
 * `shutdown_timeout_ms`), close the database, exit 0.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp, type BuildOptions } from './app.js';
import type { Logger } from 'pino';
import type { Config } from './core/config.js';
import { createLogger, reopenLogFiles } from './core/logging.js';
import { stopAccepting } from './core/shutdown.js';
import { isClusterWorker, primaryChannel } from './core/cluster/ipc.js';

export interface RunningServer {
  app: FastifyInstance;
  logger: Logger;
  /** e.g. `http://127.0.0.1:8080` */
  url: string;
  /**
   * Graceful stop; resolves `true` when everything finished in time. With `drainMs`, the node
   * first drains that long: /readyz answers 503, realtime clients are closed (they resume on
   * another node), requests are still served, each answer saying `Connection: close`.
   */
  stop(options?: { drainMs?: number }): Promise<boolean>;
}

export async function startServer(
  config: Config,
  options: BuildOptions = {},
): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config);
  const app = await buildApp(config, { ...options, logger });
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await app.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  app.log.info(
    { url, port, database: app.database.description, bus: app.bus.kind, modules: config.modules },
    'agora listening',
  );

  let stopping: Promise<boolean> | undefined;
  const stop = (options: { drainMs?: number } = {}): Promise<boolean> => {
    stopping ??= (async () => {
      const drainMs = options.drainMs ?? 0;
      if (drainMs > 0) {
        app.startDraining();
        stopAccepting(app.server);
        const closed = app.realtime.disconnectAll();
        app.log.info({ drain_ms: drainMs, realtime_closed: closed }, 'draining');
        await new Promise((resolve) => setTimeout(resolve, drainMs));
      }
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<false>((resolve) => {
        timer = setTimeout(() => {
          resolve(false);
        }, config.shutdown_timeout_ms);
      });
      const closed = app.close().then(() => true);
      const finished = await Promise.race([closed, timedOut]);
      clearTimeout(timer);
      return finished;
    })();
    return stopping;
  };
  return { app, logger, url, stop };
}

/** Stops `server` on the first SIGTERM or SIGINT and exits: 0 when clean, 1 when time ran out. */
export function exitOnSignals(server: RunningServer): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals | 'disconnect'): void => {
    // Once: a worker of a cluster gets Ctrl-C from the terminal and again from its primary.
    if (stopping) return;
    stopping = true;
    // A supervisor or an orchestrator sends SIGTERM: drain first, so that the balancer moves
    // away. Ctrl-C (SIGINT) is a person at a terminal, and a worker whose primary is gone has no
    // one to drain for: stop at once.
    const drainMs = signal === 'SIGTERM' ? server.app.config.shutdown_drain_ms : 0;
    server.app.log.info(
      { signal, drain_ms: drainMs },
      'shutting down: finishing in-flight requests',
    );
    void server.stop({ drainMs }).then((clean) => {
      if (clean) server.app.log.info('shutdown complete');
      else server.app.log.error('shutdown timed out; exiting with requests still open');
      server.logger.flush(() => {
        process.exit(clean ? 0 : 1);
      });
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  if (isClusterWorker()) {
    primaryChannel().onLost(() => {
      onSignal('disconnect');
    });
    // SIGUSR2 asks the primary for a rolling restart; sent to the whole group (systemctl kill),
    // it must not end the workers at once (Node's default for it).
    process.on('SIGUSR2', () => undefined);
  }
  // Log rotation: logrotate renames the files, then sends SIGHUP; we reopen them by path.
  process.on('SIGHUP', () => {
    const files = reopenLogFiles();
    server.app.log.info({ files }, 'log files reopened');
  });
}
