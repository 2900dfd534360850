/**
 * `agora serve --workers N`: the primary process. It migrates the database once, then runs N
 * workers (node:cluster) that share the listening socket, each a whole Agora server. It numbers
 * the realtime events of the in-process bus for all of them, answers `/metrics` for the whole
 * cluster (prom-client's aggregation), holds the login limits every worker shares, replaces a
 * worker that dies, restarts them one by one on SIGUSR2, and on SIGTERM/SIGINT stops them all
 * (each drains and finishes its requests) before it exits.
 */
import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import type { Logger } from 'pino';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import { RateLimiterClusterMaster } from 'rate-limiter-flexible';
import { hostClusterBus } from '../bus/cluster.js';
import { createMemoryBus } from '../bus/memory.js';
import { CLUSTER_WORKER_ENV, type Config } from '../config.js';
import { reopenLogFiles } from '../logging.js';
import { isAgoraMessage } from './ipc.js';

/** A worker that dies sooner than this after it started is restarted after a growing pause. */
const STABLE_AFTER_MS = 10_000;
const MAX_RESTART_PAUSE_MS = 10_000;

export interface PrimaryOptions {
  config: Config;
  workers: number;
  logger: Logger;
  /** Brings the database up to date before any worker starts (migrations run once). */
  prepare: () => Promise<void>;
}

/** Runs the cluster until a signal stops it; resolves with the exit code. */
export async function runPrimary(options: PrimaryOptions): Promise<number> {
  const { config, logger } = options;
  await options.prepare();

  const live = (): Worker[] =>
    Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  const onBus = config.redis_url
    ? null
    : hostClusterBus(createMemoryBus({ history: config.realtime.history, logger }), live, logger);
  const aggregator = new AggregatorRegistry();
  // The primary's own figures, after the workers' sum on every scrape.
  const own = new Registry();
  new Gauge({
    name: 'agora_cluster_workers',
    help: 'Worker processes serving requests',
    registers: [own],
    collect() {
      this.set(live().length);
    },
  });
  const replacements = new Counter({
    name: 'agora_cluster_worker_replacements_total',
    help: 'Workers started in place of one that died',
    registers: [own],
  });
  // Constructed for its effect: from now on it answers the workers' login limiters (tax).
  new RateLimiterClusterMaster();
  cluster.on('message', (worker, message: unknown) => {
    onBus?.(worker, message);
    if (isAgoraMessage(message, 'metrics') && message.op === 'collect') {
      Promise.all([aggregator.clusterMetrics(), own.metrics()]).then(
        ([workers, primary]) =>
          worker.isConnected() && worker.send({ ...reply(message), result: workers + primary }),
        (err: unknown) =>
          worker.isConnected() && worker.send({ ...reply(message), error: String(err) }),
      );
    }
  });

  let stopping = false;
  let pause = 0;
  const startedAt = new Map<Worker, number>();
  /** The port the workers share (the one chosen for them when `port` is 0). */
  let listeningPort: number | undefined;
  /** Workers stopped on purpose (a rolling restart): not replaced when they exit. */
  const retiring = new Set<Worker>();

  /** A new worker; resolves once it listens, rejects if it exits before. */
  const fork = (): Promise<Worker> => {
    const worker = cluster.fork({ [CLUSTER_WORKER_ENV]: '1' });
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => {
        reject(new WorkerStartError(worker.process.pid, code ?? 1));
      };
      worker.once('exit', onExit);
      worker.once('listening', (address) => {
        listeningPort ??= address.port;
        startedAt.set(worker, Date.now());
        worker.off('exit', onExit);
        resolve(worker);
      });
    });
  };

  /** Starts a worker in place of one that died, after `pause`; tries again until one starts. */
  const replace = (): void => {
    setTimeout(() => {
      if (stopping) return;
      fork().then(
        (w) => {
          replacements.inc();
          logger.info({ worker: w.process.pid }, 'worker replaced');
        },
        (err: unknown) => {
          pause = Math.min(MAX_RESTART_PAUSE_MS, Math.max(250, pause * 2));
          logger.error({ err, restart_in_ms: pause }, 'replacement worker failed to start');
          replace();
        },
      );
    }, pause).unref();
  };

  cluster.on('exit', (worker, code, signal) => {
    // A worker that never listened is reported by `fork`'s promise.
    const since = startedAt.get(worker);
    if (since === undefined) return;
    startedAt.delete(worker);
    if (stopping || retiring.delete(worker)) return;
    const lived = Date.now() - since;
    pause = lived > STABLE_AFTER_MS ? 0 : Math.min(MAX_RESTART_PAUSE_MS, Math.max(250, pause * 2));
    logger.error(
      { worker: worker.process.pid, code, signal, restart_in_ms: pause },
      'worker died; starting another',
    );
    replace();
  });

  // Start: a worker that cannot start (database down, port taken) stops the whole cluster with its
  // exit code, as a single process would.
  let started: Worker[];
  try {
    started = await Promise.all(Array.from({ length: options.workers }, fork));
  } catch (err) {
    stopping = true;
    logger.error({ err }, 'a worker failed to start; stopping the cluster');
    await stopAll(live(), 'SIGTERM', config);
    // The failed worker's own code (2: a dependency is down, 1: e.g. the port is taken).
    return err instanceof WorkerStartError ? Math.max(1, err.code) : 1;
  }
  logger.info(
    {
      workers: started.map((w) => w.process.pid),
      port: listeningPort ?? config.port,
      bus: onBus ? 'cluster' : 'redis',
    },
    'agora cluster ready',
  );

  let restarting: Promise<void> | null = null;
  const restart = async (): Promise<void> => {
    // One at a time, the new one listening before the old one drains: there is always a worker.
    for (const old of live()) {
      if (stopping) return;
      await fork();
      retiring.add(old);
      old.process.kill('SIGTERM');
      await once(old, 'exit');
    }
    logger.info({ workers: live().map((w) => w.process.pid) }, 'workers restarted');
  };

  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal, workers: live().length }, 'stopping the cluster');
      void stopAll(live(), signal, config).then((codes) => {
        const code = Math.max(0, ...codes);
        logger.info({ code }, 'cluster stopped');
        resolve(code);
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.on('SIGHUP', () => {
      const files = reopenLogFiles();
      logger.info({ files }, 'log files reopened');
      for (const w of live()) w.process.kill('SIGHUP');
    });
    process.on('SIGUSR2', () => {
      restarting ??= restart()
        .catch((err: unknown) => {
          logger.error({ err }, 'rolling restart failed');
        })
        .finally(() => {
          restarting = null;
        });
    });
  });
}

class WorkerStartError extends Error {
  override name = 'WorkerStartError';
  constructor(
    pid: number | undefined,
    readonly code: number,
  ) {
    super(`worker ${pid} exited with code ${code} before it listened`);
  }
}

function reply(message: { agora: string; id?: number }): Record<string, unknown> {
  return { agora: message.agora, op: 'reply', id: message.id };
}

/**
 * Sends `signal` to every worker (each drains and finishes its requests, as a single server
 * does) and waits for them; past the longest a clean stop can take, kills those left. Resolves
 * with their exit codes (1 for a worker killed).
 */
async function stopAll(
  workers: Worker[],
  signal: NodeJS.Signals,
  config: Config,
): Promise<number[]> {
  const limit = config.shutdown_drain_ms + config.shutdown_timeout_ms + 5000;
  return Promise.all(
    workers.map(async (worker) => {
      if (worker.isDead()) return worker.process.exitCode ?? 0;
      const exited = once(worker, 'exit') as Promise<[number | null, string | null]>;
      worker.process.kill(signal);
      const timer = setTimeout(() => worker.process.kill('SIGKILL'), limit);
      const [code] = await exited;
      clearTimeout(timer);
      return code ?? 1;
    }),
  );
}
