/**
 * Remote imports (`{"url": …}`) with SSRF protection: http and https only, no redirects, a size
 * and a time limit, and no connection to loopback, private, link-local, carrier-grade NAT,
 * multicast or cloud metadata addresses — checked on the address actually connected to (after
 * DNS), so a public name that resolves to 127.0.0.1 is refused too.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import { AppError } from '../../core/errors.js';

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** True when `address` is not a public unicast address. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) {
    // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible forms hide an IPv4 address.
    const mapped = /^::(ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped?.[2]) return blocked.check(mapped[2], 'ipv4');
    return blocked.check(address, 'ipv6');
  }
  return true;
}

const refused = (host: string): AppError =>
  new AppError(
    'IMAGE_REMOTE_REFUSED',
    400,
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
        throw new AppError('IMAGE_BAD_URL', 400, 'url: not a valid absolute URL');
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new AppError('IMAGE_BAD_URL', 400, 'url: only http and https URLs can be imported');
      }
      if (url.username || url.password) {
        throw new AppError('IMAGE_BAD_URL', 400, 'url: credentials in URLs are not accepted');
      }
      const host = url.hostname.replace(/^\[|\]$/g, '');
      // A literal address connects without DNS: check it here.
      if (!options.allowPrivate && isIP(host) !== 0 && isPrivateAddress(host)) throw refused(host);
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
          throw new AppError(
            'IMAGE_REMOTE_FAILED',
            502,
            `the remote server redirected (HTTP ${res.statusCode}); redirects are not followed`,
          );
        }
        if (res.statusCode !== 200) {
          throw new AppError(
            'IMAGE_REMOTE_FAILED',
            502,
            `the remote server answered HTTP ${res.statusCode}`,
          );
        }
        const declared = Number(res.headers['content-length'] ?? 0);
        const tooLarge = new AppError(
          'IMAGE_TOO_LARGE',
          413,
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
          throw new AppError(
            'IMAGE_REMOTE_TIMEOUT',
            504,
            `the remote image did not arrive within ${options.timeoutMs} ms`,
          );
        }
        const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        throw new AppError(
          'IMAGE_REMOTE_FAILED',
          502,
          `the remote image could not be fetched (${code})`,
        );
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
