/**
 * The ceiling: a bare Fastify server with one JSON route and nothing else, run as its own
 * process so that Agora's figures can be read as a fraction of what Fastify itself does here.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/', () => ({ ok: true }));
const url = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.stdout.write(`${url}\n`);
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
