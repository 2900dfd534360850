/**
 * Periodic jobs of a module (the queue's sweep, the market's purge): run every `intervalMs`,
 * never two runs of one job at once, a failure logged and the next run kept, and on close no new
 * run and the one in progress awaited, so a job never meets a closed database.
 */
import type { FastifyInstance } from 'fastify';

export interface JobOptions {
  /** Named in the log line of a failed run. */
  name: string;
  intervalMs: number;
  run: () => Promise<unknown>;
  /** The level of a failed run's log line (default `error`). */
  level?: 'warn' | 'error';
}

/** Starts the job now (first run after one interval) and stops it when `app` closes. */
export function every(
  app: FastifyInstance,
  { name, intervalMs, run, level = 'error' }: JobOptions,
): void {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = run()
      .then(
        () => undefined,
        (err: unknown) => {
          app.log[level]({ err, job: name }, `${name} failed`);
        },
      )
      .finally(() => {
        running = null;
      });
  }, intervalMs);
  // A job never keeps the process alive on its own.
  timer.unref();
  app.addHook('onClose', async () => {
    clearInterval(timer);
    await running;
  });
}
