/**
 * `/healthz`: the process answers. `/readyz`: it can do its work — the database and the bus
 * respond — else 503, so a load balancer stops sending traffic here.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Type } from 'typebox';

const Check = Type.Union([Type.Literal('ok'), Type.String()]);
const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
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
      const outcome = async (probe: () => Promise<void>): Promise<string> => {
        try {
          await probe();
          return 'ok';
        } catch (err) {
          request.log.warn({ err }, 'readiness check failed');
          // Details go to the log only: they can name hosts and users.
          return 'unavailable';
        }
      };
      const [database, bus] = await Promise.all([
        outcome(() => app.database.ping()),
        outcome(() => app.bus.ping()),
      ]);
      const ready = database === 'ok' && bus === 'ok';
      return reply
        .code(ready ? 200 : 503)
        .send({ status: ready ? 'ok' : 'unavailable', checks: { database, bus } });
    },
  );
}

export default fp(healthPlugin, {
  name: 'agora-health',
  fastify: '5.x',
  dependencies: ['agora-db', 'agora-bus'],
});
