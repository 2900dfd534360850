import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helper.js';
import { startServerProcess } from './process.js';
import { openSse, openWs } from './realtime-clients.js';

interface Answer {
  status: number;
  connection?: string;
  body: string;
}

/** The whole answer to `req`, once it has arrived. */
function answerOf(req: http.ClientRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: text });
      });
    });
    req.on('error', reject);
  });
}

describe('graceful shutdown', () => {
  it('drains on SIGTERM: refuses new connections, answers open ones (readyz 503), then exits 0', async () => {
    const server = await startServerProcess(['--data-dir', tempDir()], {
      AGORA_SHUTDOWN_DRAIN_MS: '5000',
    });
    // Two keep-alive connections opened before the signal, as a proxy holds them.
    const agents = [0, 1].map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
    const send = (agent: http.Agent, method: string, path: string, body?: string) => {
      const req = http.request(`${server.url}${path}`, {
        agent,
        method,
        headers: body ? { 'content-type': 'application/json' } : {},
      });
      const answered = answerOf(req);
      req.end(body);
      return answered;
    };
    try {
      for (const agent of agents) expect((await send(agent, 'GET', '/readyz')).status).toBe(200);
      server.child.kill('SIGTERM');
      await server.waitForLog(/^draining$/);
      // A new connection is refused: a proxy sends the request elsewhere, nothing lost.
      await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
      // On the open ones, the node still answers, and says it is going.
      const ready = await send(agents[0]!, 'GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.body)).toMatchObject({ status: 'draining' });
      const served = await send(
        agents[1]!,
        'POST',
        '/market/buy/1',
        JSON.stringify({ amount: 1, credit_card: '4242424242424242' }),
      );
      expect(served.status).toBe(200);
      expect(served.connection).toBe('close');
      expect(await server.exited).toBe(0);
    } finally {
      for (const agent of agents) agent.destroy();
    }
    const drained = server.lines.findIndex((l) => l.msg === 'draining');
    const complete = server.lines.findIndex((l) => l.msg === 'shutdown complete');
    expect(drained).toBeGreaterThanOrEqual(0);
    expect(complete).toBeGreaterThan(drained);
  });

  it('on SIGTERM finishes in-flight requests, closes realtime connections cleanly and exits 0', async () => {
    const server = await startServerProcess(['--data-dir', tempDir(), '--log-level', 'debug'], {
      AGORA_SHUTDOWN_DRAIN_MS: '300',
    });
    const sse = openSse(`${server.url}/events?topics=bye`);
    await sse.response;
    const ws = openWs(`${server.url.replace('http', 'ws')}/ws?topics=bye`);
    await ws.control.until(1);

    // A request in flight: its body is only half sent when the signal arrives.
    const body = JSON.stringify({
      topic: 'bye',
      type: 'last-words',
      data: { text: 'x'.repeat(200) },
    });
    const half = Math.floor(body.length / 2);
    const inflight = http.request(`${server.url}/admin/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    const answer = answerOf(inflight);
    inflight.write(body.slice(0, half));
    await server.waitForLog(/^request received$/, { url: '/admin/events' });
    server.child.kill('SIGTERM');
    await server.waitForLog(/^shutting down/);

    // Realtime connections are closed by the server, cleanly.
    await sse.closed;
    expect(await ws.closed).toBe(1001);

    inflight.end(body.slice(half));
    const res = await answer;
    expect(res.status).toBe(200);
    // Finished after closing started: the client is told not to reuse the connection.
    expect(res.connection).toBe('close');
    expect(JSON.parse(res.body)).toEqual({ topic: 'bye', offset: 1 });
    expect(await server.exited).toBe(0);
    expect(server.lines.some((l) => l.msg === 'shutdown complete')).toBe(true);
  });

  it('refuses new connections once shutting down', async () => {
    const server = await startServerProcess(['--data-dir', tempDir()], {
      AGORA_SHUTDOWN_DRAIN_MS: '0',
    });
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});
