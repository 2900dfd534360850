/**
 * Admin alerts by e-mail (SMTP through nodemailer): start-up failures, and 5xx answers during
 * operation throttled to one mail per window with a count of what was suppressed. A failing SMTP
 * server is logged, never fatal.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createTransport } from 'nodemailer';
import type { Config } from './config.js';

export interface Mailer {
  /** Sends one mail to the administrator; resolves false (and logs) when it could not. */
  send(subject: string, text: string): Promise<boolean>;
}

/** A mailer from the `mail` settings, or null when no SMTP host is configured. */
export function createMailer(config: Config['mail'], logger: FastifyBaseLogger): Mailer | null {
  if (!config.host || !config.to) return null;
  const transport = createTransport({
    host: config.host,
    port: config.port,
    secure: config.secure,
    requireTLS: config.starttls,
    ...(config.user ? { auth: { user: config.user, pass: config.password } } : {}),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  return {
    async send(subject, text) {
      try {
        await transport.sendMail({
          from: config.from,
          to: config.to,
          subject: `${config.subject_prefix} ${subject}`.trim(),
          text,
        });
        return true;
      } catch (err) {
        logger.error({ err, subject }, 'mail: could not send an alert to the administrator');
        return false;
      }
    },
  };
}

export interface Alerts {
  /** Reports a problem: mailed now, or counted and summarised when the window closes. */
  report(subject: string, text: string): void;
  /** Sends what is pending (the count of suppressed alerts) and stops the timer. */
  flush(): Promise<void>;
}

export interface AlertOptions {
  mailer: Mailer;
  windowMs: number;
  now?: () => number;
  /** Timer functions, injectable so tests drive time instead of waiting. */
  setTimer?: (fn: () => void, ms: number) => { unref?: () => void };
  clearTimer?: (timer: unknown) => void;
}

/** At most one mail per window; the others are counted and the count mailed when it ends. */
export function createAlerts(options: AlertOptions): Alerts {
  const now = options.now ?? Date.now;
  const setTimer = options.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
  const clearTimer = options.clearTimer ?? ((t: unknown) => clearTimeout(t as NodeJS.Timeout));
  let windowStart = -Infinity;
  let suppressed = 0;
  let lastSubject = '';
  let timer: unknown = null;
  let sending: Promise<unknown> = Promise.resolve();

  const summarise = (): void => {
    timer = null;
    if (suppressed === 0) return;
    const count = suppressed;
    suppressed = 0;
    sending = sending.then(() =>
      options.mailer.send(
        `${count} more alert${count === 1 ? '' : 's'} suppressed`,
        `${count} alert${count === 1 ? ' was' : 's were'} not mailed in the last ${Math.round(options.windowMs / 1000)} s ` +
          `(at most one mail per window). The last one: ${lastSubject}`,
      ),
    );
  };

  return {
    report(subject, text) {
      const t = now();
      if (t - windowStart >= options.windowMs) {
        windowStart = t;
        sending = sending.then(() => options.mailer.send(subject, text));
        const handle = setTimer(summarise, options.windowMs);
        handle.unref?.();
        timer = handle;
        return;
      }
      suppressed += 1;
      lastSubject = subject;
    },
    async flush() {
      if (timer !== null) {
        clearTimer(timer);
        summarise();
      }
      await sending;
    },
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Admin alerts; null when no SMTP server is configured. */
    alerts: Alerts | null;
  }
}

/** Mails the administrator about 5xx answers (throttled). */
async function mailPlugin(
  app: FastifyInstance,
  options: { mailer?: Mailer | null },
): Promise<void> {
  const mailer =
    options.mailer === undefined ? createMailer(app.config.mail, app.log) : options.mailer;
  const alerts = mailer ? createAlerts({ mailer, windowMs: app.config.mail.throttle_ms }) : null;
  app.decorate('alerts', alerts);
  if (!alerts) return;
  // As each answer finishes (not from an `onResponse` hook: see request-events.ts).
  app.requestEvents.onCompleted((_error, request, reply) => {
    // 503 answers are deliberate load shedding (a full queue, a busy image engine), not failures.
    if (reply.statusCode >= 500 && reply.statusCode !== 503) {
      alerts.report(
        `${reply.statusCode} on ${request.method} ${request.routeOptions.url ?? request.url}`,
        `Request ${request.id} (${request.method} ${request.url}) was answered ${reply.statusCode}. ` +
          'See the server log for this request id.',
      );
    }
  });
  app.addHook('onClose', async () => {
    await alerts.flush();
  });
}

export default fp(mailPlugin, {
  name: 'agora-mail',
  fastify: '5.x',
  decorators: { fastify: ['config', 'requestEvents'] },
});
