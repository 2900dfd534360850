/**
 * `/healthz`: the process answers. `/readyz`: it can do its work — the database and the bus
 * respond — else 503, so a load balancer stops sending traffic here; it answers within a second
 * whatever the dependencies do, and says which one is down.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Type } from 'typebox';
import { TimeoutError, within } from './timeout.js';

/** `ok`, `unavailable` (it answered with an error) or `no answer` (within the time below). */
const Check = Type.Union([Type.Literal('ok'), Type.String()]);
/** Each dependency has this long to answer, so that `/readyz` answers within a second. */
const READY_TIMEOUT_MS = 800;
const Readiness = Type.Object({
  status: Type.Union([
    Type.Literal('ok'),
    Type.Literal('degraded'),
    Type.Literal('unavailable'),
    Type.Literal('draining'),
  ]),
  checks: Type.Object({ database: Check, bus: Check }),
});

async function healthPlugin(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();
  routes.get(
    '/healthz',
    {
      config: { quietLog: true },
      schema: {
        tags: ['core'],
        summary: 'Liveness: the process answers',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    () => ({ status: 'ok' as const }),
  );

  routes.get(
    '/readyz',
    {
      config: { quietLog: true },
      schema: {
        tags: ['core'],
        summary: 'Readiness: database and bus reachable',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (request, reply) => {
      // Stopping: the balancer must send new requests elsewhere while this node finishes.
      if (app.draining) {
        return reply
          .code(503)
          .send({ status: 'draining', checks: { database: 'draining', bus: 'draining' } });
      }
      const outcome = async (probe: () => Promise<void>): Promise<string> => {
        try {
          await within(probe(), READY_TIMEOUT_MS, 'readiness');
          return 'ok';
        } catch (err) {
          if (err instanceof TimeoutError) return 'no answer';
          request.log.warn(
            { err: err instanceof Error ? err.message : String(err) },
            'readiness check failed',
          );
          // Details go to the log only: they can name hosts and users.
          return 'unavailable';
        }
      };
      const [database, bus] = await Promise.all([
        outcome(() => app.database.ping(READY_TIMEOUT_MS)),
        outcome(() => app.bus.ping()),
      ]);
      // Without the database nothing works: 503, the balancer sends traffic elsewhere. Without
      // the bus, requests still work (live clients get a gap and reload), and every node shares
      // the one Redis: taking them all out of the balancer would turn a partial outage into a
      // whole one. So 200, saying `degraded`.
      const status = database !== 'ok' ? 'unavailable' : bus !== 'ok' ? 'degraded' : 'ok';
      return reply
        .code(status === 'unavailable' ? 503 : 200)
        .send({ status, checks: { database, bus } });
    },
  );
}

export default fp(healthPlugin, {
  name: 'agora-health',
  fastify: '5.x',
  dependencies: ['agora-db', 'agora-bus', 'agora-request-id'],
});
