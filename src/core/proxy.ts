/**
 * Requests that reach Agora through a reverse proxy. Behind nginx on the same host every client
 * connects from 127.0.0.1: unless `trust_proxy` names the proxy (so that Fastify reads the
 * client's address from X-Forwarded-For), the proxy's address is all Agora sees.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** True when a proxy says it forwarded the request (X-Forwarded-For, Forwarded, X-Real-IP). */
export function isForwarded(headers: IncomingHttpHeaders): boolean {
  return (
    headers['x-forwarded-for'] !== undefined ||
    headers.forwarded !== undefined ||
    headers['x-real-ip'] !== undefined
  );
}

/** The warning given once when forwarded requests arrive and `trust_proxy` is not set. */
export const UNTRUSTED_PROXY_WARNING =
  'requests arrive through a proxy (X-Forwarded-For or Forwarded) but trust_proxy is not set: ' +
  'every client looks like the proxy. Set trust_proxy to the proxy’s address (docs/operations.md, ' +
  'Behind a reverse proxy); until then admin routes refuse forwarded requests without the admin token.';
