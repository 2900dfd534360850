/**
 * A typed client for the images API, for other programs (`import { ImagesClient } from
 * 'agora/client'`). It speaks plain HTTP with the global `fetch`; every error answer becomes an
 * `ImagesApiError` carrying the status, the stable code and the request id.
 */
import {
  derivedPath,
  expandOps,
  extensionOf,
  formatOf,
  signature,
  type Fit,
  type Format,
  type Ops,
  type OpsInput,
} from '../modules/images/images.ops.js';
import type { BatchResult, ImageList, ImageMeta } from '../modules/images/images.schemas.js';

export type { Fit, Format, Ops, OpsInput };

/** A stored image, as the server's schema declares it. */
export type { ImageMeta } from '../modules/images/images.schemas.js';

/** One id of a batch, as the server's schema declares it. */
export type { BatchResult } from '../modules/images/images.schemas.js';

export interface ImagesClientOptions {
  /** The server, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** Where the images module is mounted (default `/images`). */
  prefix?: string;
  /** Bearer token for admin operations (delete). */
  adminToken?: string;
  /** The server's `images.signing_key`, to sign transformation URLs. */
  signingKey?: string;
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof fetch;
}

export class ImagesApiError extends Error {
  override name = 'ImagesApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
  ) {
    super(message);
  }
}

/** Bytes to send: a Buffer, any Uint8Array or a Blob. */
export type ImageData = Uint8Array | Blob;

const CONTENT_TYPES: Record<Format, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
  tiff: 'image/tiff',
};

/** A content type for a file name, by its extension (octet-stream when unknown). */
export function contentTypeOf(filename: string): string {
  const format = formatOf(filename.split('.').pop() ?? '');
  return format ? CONTENT_TYPES[format] : 'application/octet-stream';
}

function toBlob(data: ImageData, type: string): Blob {
  return data instanceof Blob ? data : new Blob([data as Uint8Array<ArrayBuffer>], { type });
}

export class ImagesClient {
  private readonly base: string;
  private readonly fetcher: typeof fetch;

  constructor(private readonly options: ImagesClientOptions) {
    this.base = `${options.baseUrl.replace(/\/+$/, '')}${options.prefix ?? '/images'}`;
    this.fetcher = options.fetch ?? fetch;
  }

  private async call(path: string, init: RequestInit = {}): Promise<Response> {
    const res = await this.fetcher(`${this.base}${path}`, init);
    if (res.ok || res.status === 304) return res;
    let code = 'HTTP_ERROR';
    let message = `HTTP ${res.status}`;
    try {
      const body = (await res.json()) as { error?: { code?: string; message?: string } };
      code = body.error?.code ?? code;
      message = body.error?.message ?? message;
    } catch {
      // not a JSON error body
    }
    throw new ImagesApiError(res.status, code, message, res.headers.get('x-request-id'));
  }

  private async json<T>(path: string, init?: RequestInit): Promise<T> {
    return (await (await this.call(path, init)).json()) as T;
  }

  /** Uploads one image. */
  async upload(
    data: ImageData,
    options: { filename?: string; album?: string; contentType?: string } = {},
  ): Promise<ImageMeta> {
    const type =
      options.contentType ??
      (options.filename ? contentTypeOf(options.filename) : 'application/octet-stream');
    const headers: Record<string, string> = { 'content-type': type };
    if (options.filename) headers['x-filename'] = options.filename;
    const query = options.album ? `?album=${encodeURIComponent(options.album)}` : '';
    return this.json<ImageMeta>(query, { method: 'POST', headers, body: toBlob(data, type) });
  }

  /** Uploads several images in one multipart request; answers in the same order. */
  async uploadMany(
    files: { data: ImageData; filename: string }[],
    options: { album?: string } = {},
  ): Promise<ImageMeta[]> {
    const form = new FormData();
    if (options.album) form.append('album', options.album);
    for (const f of files)
      form.append('image', toBlob(f.data, contentTypeOf(f.filename)), f.filename);
    const answer = await this.json<ImageMeta | ImageMeta[]>('', { method: 'POST', body: form });
    return Array.isArray(answer) ? answer : [answer];
  }

  /** Imports a remote image by URL (the server fetches it). */
  async importUrl(url: string, options: { album?: string } = {}): Promise<ImageMeta> {
    return this.json<ImageMeta>('', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url, ...(options.album ? { album: options.album } : {}) }),
    });
  }

  /** The URL of an image, converted (`ops.format`) and transformed (signed when configured). */
  url(id: string, ops: OpsInput = {}): string {
    return `${this.base}${derivedPath(id, expandOps(ops), this.options.signingKey)}`;
  }

  /** The bytes of an image, as stored or with `ops` applied. */
  async get(
    id: string,
    ops: OpsInput = {},
  ): Promise<{ data: Buffer; contentType: string; etag: string | null }> {
    const path = this.url(id, ops).slice(this.base.length);
    const res = await this.call(path);
    return {
      data: Buffer.from(await res.arrayBuffer()),
      contentType: res.headers.get('content-type') ?? 'application/octet-stream',
      etag: res.headers.get('etag'),
    };
  }

  /** Transforms an image sent in the request, without storing it. */
  async transform(
    data: ImageData,
    input: OpsInput,
    options: { contentType?: string } = {},
  ): Promise<Buffer> {
    const ops = expandOps(input);
    const path = derivedPath('transform', ops);
    // derivedPath puts the format in an extension; /transform takes it as a parameter.
    const [, query = ''] = path.split('?');
    const key = this.options.signingKey;
    const params = [
      query,
      ops.format ? `format=${extensionOf(ops.format)}` : '',
      key ? `sig=${signature(key, 'transform', ops)}` : '',
    ]
      .filter(Boolean)
      .join('&');
    const type = options.contentType ?? 'application/octet-stream';
    const res = await this.call(`/transform${params ? `?${params}` : ''}`, {
      method: 'POST',
      headers: { 'content-type': type },
      body: toBlob(data, type),
    });
    return Buffer.from(await res.arrayBuffer());
  }

  /** Applies `ops` to many stored images; each result says ok or why not. */
  async batch(ids: string[], ops: OpsInput = {}): Promise<BatchResult[]> {
    const { format, ...rest } = expandOps(ops);
    const raw = Object.fromEntries(
      Object.entries(rest).map(([k, v]) => [k, String(v as string | number | boolean)]),
    );
    // With signing on, the server answers batches to administrators only.
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.adminToken) headers.authorization = `Bearer ${this.options.adminToken}`;
    const body = await this.json<{ results: BatchResult[] }>('/batch', {
      method: 'POST',
      headers,
      body: JSON.stringify({ ids, ops: raw, ...(format ? { format } : {}) }),
    });
    return body.results;
  }

  meta(id: string): Promise<ImageMeta> {
    return this.json<ImageMeta>(`/${encodeURIComponent(id)}/meta`);
  }

  list(query: { album?: string; cursor?: string; limit?: number } = {}): Promise<ImageList> {
    const params = new URLSearchParams();
    if (query.album) params.set('album', query.album);
    if (query.cursor) params.set('cursor', query.cursor);
    if (query.limit) params.set('limit', String(query.limit));
    const qs = params.toString();
    return this.json(qs ? `?${qs}` : '');
  }

  /** Deletes an image (admin). */
  delete(id: string): Promise<ImageMeta> {
    const headers: Record<string, string> = {};
    if (this.options.adminToken) headers.authorization = `Bearer ${this.options.adminToken}`;
    return this.json<ImageMeta>(`/${encodeURIComponent(id)}`, { method: 'DELETE', headers });
  }
}
