/**
 * Remote imports (`{"url": …}`) with SSRF protection: http and https only, no redirects, a size
 * and a time limit, and no connection to any address but public unicast ones (no loopback,
 * private, link-local, carrier-grade NAT, multicast, metadata, or IPv6 forms of those) — checked
 * on the address actually connected to (after DNS), so a public name that resolves to 127.0.0.1
 * is refused too.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, request } from 'undici';
import { AppError } from '../../core/errors.js';
import { ImagesErrors } from './images.errors.js';

/** The deprecated IPv4-compatible IPv6 block, ::/96. */
const IPV4_COMPATIBLE: [ipaddr.IPv6, number] = [ipaddr.IPv6.parse('::'), 96];

/**
 * True when `address` is not a public unicast address. ipaddr.js classifies it against the IANA
 * special-purpose registries: loopback, private, link-local, carrier-grade NAT, multicast,
 * reserved and documentation ranges, and every IPv6 form that embeds an IPv4 address (mapped,
 * translated, 6to4, Teredo, NAT64 64:ff9b::/96 and 64:ff9b:1::/48) — none of which a public image
 * host needs, and each of which can reach an internal address. An IPv4-mapped address
 * (::ffff:a.b.c.d) is judged as the IPv4 address it is.
 */
export function isPrivateAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return true;
  let ip = ipaddr.parse(address);
  if (ip instanceof ipaddr.IPv6) {
    // The deprecated IPv4-compatible block ::/96 (::7f00:1 is 127.0.0.1) is not in the
    // registry ipaddr.js follows: it would pass as unicast.
    if (ip.match(IPV4_COMPATIBLE)) return true;
    if (ip.isIPv4MappedAddress()) ip = ip.toIPv4Address();
  }
  return ip.range() !== 'unicast';
}

const refused = (host: string): AppError =>
  ImagesErrors.remoteRefused(
    `the remote host ${host} is a loopback, private or link-local address; remote imports from those are refused`,
  );

/** DNS resolution that refuses private addresses (used by the connection itself). */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) {
      callback(err, '', 4);
      return;
    }
    const allowed = addresses.filter((a) => !isPrivateAddress(a.address));
    if (allowed.length === 0 || allowed.length !== addresses.length) {
      callback(refused(hostname), '', 4);
      return;
    }
    const [first] = allowed;
    if (options.all) callback(null, allowed);
    else if (first) callback(null, first.address, first.family);
  });
};

export interface RemoteOptions {
  maxBytes: number;
  timeoutMs: number;
  allowPrivate: boolean;
}

export interface RemoteFetcher {
  fetch(url: string): Promise<{ bytes: Buffer; filename: string | null }>;
  close(): Promise<void>;
}

export function createRemoteFetcher(options: RemoteOptions): RemoteFetcher {
  const agent = new Agent({
    connections: 16,
    connect: options.allowPrivate ? {} : { lookup: guardedLookup },
  });
  return {
    async fetch(raw) {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw ImagesErrors.badUrl('url: not a valid absolute URL');
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw ImagesErrors.badUrl('url: only http and https URLs can be imported');
      }
      if (url.username || url.password) {
        throw ImagesErrors.badUrl('url: credentials in URLs are not accepted');
      }
      const host = url.hostname.replace(/^\[|\]$/g, '');
      // A literal address connects without DNS: check it here.
      if (!options.allowPrivate && ipaddr.isValid(host) && isPrivateAddress(host))
        throw refused(host);
      const timeout = AbortSignal.timeout(options.timeoutMs);
      let body: Awaited<ReturnType<typeof request>>['body'] | undefined;
      try {
        const res = await request(url, {
          dispatcher: agent,
          signal: timeout,
          headersTimeout: options.timeoutMs,
          bodyTimeout: options.timeoutMs,
          headers: { accept: 'image/*' },
        });
        body = res.body;
        if (res.statusCode >= 300 && res.statusCode < 400) {
          throw ImagesErrors.remoteFailed(
            `the remote server redirected (HTTP ${res.statusCode}); redirects are not followed`,
          );
        }
        if (res.statusCode !== 200) {
          throw ImagesErrors.remoteFailed(`the remote server answered HTTP ${res.statusCode}`);
        }
        const declared = Number(res.headers['content-length'] ?? 0);
        const tooLarge = ImagesErrors.tooLarge(
          `the remote image is larger than ${options.maxBytes} bytes`,
        );
        if (declared > options.maxBytes) throw tooLarge;
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of body) {
          size += (chunk as Buffer).length;
          if (size > options.maxBytes) throw tooLarge;
          chunks.push(chunk as Buffer);
        }
        const name = url.pathname.split('/').pop() ?? '';
        return {
          bytes: Buffer.concat(chunks),
          filename: name === '' ? null : decodeURIComponent(name).slice(0, 255),
        };
      } catch (err) {
        if (err instanceof AppError) throw err;
        const cause = (err as { cause?: unknown }).cause;
        if (cause instanceof AppError) throw cause;
        if (timeout.aborted) {
          throw ImagesErrors.remoteTimeout(
            `the remote image did not arrive within ${options.timeoutMs} ms`,
          );
        }
        const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        throw ImagesErrors.remoteFailed(`the remote image could not be fetched (${code})`);
      } finally {
        if (body && !body.destroyed) {
          body.on('error', () => undefined);
          body.destroy();
        }
      }
    },
    close: () => agent.close(),
  };
}
