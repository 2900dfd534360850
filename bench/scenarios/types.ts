/** What a benchmark scenario is. Each module adds its scenarios in `bench/scenarios/<module>.ts`. */

export interface HttpScenario {
  kind: 'http';
  name: string;
  /** Which server: the bare Fastify ceiling or Agora. */
  target: 'ceiling' | 'agora';
  /**
   * A light route (little work of its own): also measured against bare `node:http`, the harder
   * ceiling, just before it.
   */
  light?: boolean;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** Several paths taken in rotation instead of `path` alone. */
  paths?: string[];
  headers?: Record<string, string>;
  body?: string;
  connections?: number;
  /** Expected status; anything else counts as an error. */
  expect?: number;
  /** Runs once against the started server before the load (seeding); may choose the path. */
  setup?: (baseUrl: string) => Promise<{ path: string } | undefined>;
}

export interface CustomScenario {
  kind: 'custom';
  name: string;
  /** Measures something that is not request/response (fan-out, …) and returns its figures. */
  run: (baseUrl: string) => Promise<Record<string, number | string>>;
}

export type Scenario = HttpScenario | CustomScenario;

/** Sends a JSON request to the server under test; throws unless it answers 2xx. */
export async function sendJson(
  baseUrl: string,
  method: 'POST' | 'PUT',
  path: string,
  body: unknown,
): Promise<void> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path} failed: HTTP ${res.status}`);
}
