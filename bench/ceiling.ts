/**
 * The ceilings, each run as its own process so that Agora's figures can be read as a fraction of
 * what this machine does: `fastify` (argv[2], the default) is a bare Fastify server with one JSON
 * route and nothing else; `http` is a bare `node:http` server writing the same JSON answer, the
 * hardest ceiling: what Node itself does per request here.
 */
import http from 'node:http';
import Fastify from 'fastify';

const port = Number(process.env.PORT ?? 0);
const kind = process.argv[2] ?? 'fastify';

if (kind === 'http') {
  const body = JSON.stringify({ ok: true });
  const server = http.createServer((_request, response) => {
    response.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    response.end(body);
  });
  server.listen(port, '127.0.0.1', () => {
    const address = server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    process.stdout.write(`http://127.0.0.1:${bound}\n`);
  });
  process.on('SIGTERM', () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
} else {
  const app = Fastify({ logger: false });
  app.get('/', () => ({ ok: true }));
  const url = await app.listen({ host: '127.0.0.1', port });
  process.stdout.write(`${url}\n`);
  process.on('SIGTERM', () => {
    void app.close().then(() => process.exit(0));
  });
}
