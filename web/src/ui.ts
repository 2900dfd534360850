/**
 * The console's shared components: element building, the API call every page makes (readable
 * errors from both of Agora's error bodies, and the "unreachable, retrying…" banner when the
 * server cannot be reached), buttons with an in-flight state, toasts, a confirmation dialog,
 * and `Intl` formatting. The shell's markup is in `web/shell.ts`.
 */
import type { Info } from '../../src/core/web.js';

type Child = Node | string | null | undefined | false;
type Props<K extends keyof HTMLElementTagNameMap> = Partial<
  Omit<HTMLElementTagNameMap[K], 'dataset' | 'style'>
> & { dataset?: Record<string, string>; attrs?: Record<string, string> };

/** `el('button', { className: 'primary', type: 'button' }, 'Buy')`. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props<K> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  const { dataset, attrs, ...rest } = props;
  Object.assign(node, rest);
  for (const [k, v] of Object.entries(dataset ?? {})) node.dataset[k] = v;
  for (const [k, v] of Object.entries(attrs ?? {})) node.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

/** The element with this id, of this type (a page's markup is its contract with its script). */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const node = document.getElementById(id);
  if (!(node instanceof type)) throw new Error(`#${id} is missing`);
  return node;
}

/** Sets the text of the element with this id. */
export function setText(id: string, value: string): void {
  byId(id, HTMLElement).textContent = value;
}

// ---------------------------------------------------------------------------------------------
// Formatting

/**
 * Made on first use, not when the page loads: a renderer's first Intl formatter loads the
 * locale data, 40–95 ms in a fresh Chromium here, which delayed every page's first paint.
 */
let numberFormat: Intl.NumberFormat | undefined;
const formatNumber = (n: number): string =>
  (numberFormat ??= new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 })).format(n);
/** One formatter per currency: a list re-rendered on every live event formats many prices. */
const moneyFormats = new Map<string, Intl.NumberFormat | null>();

export const format = {
  number: formatNumber,
  money(n: number, currency: string): string {
    let formatter = moneyFormats.get(currency);
    if (formatter === undefined) {
      try {
        formatter = new Intl.NumberFormat(undefined, { style: 'currency', currency });
      } catch {
        formatter = null; // not a currency this browser knows
      }
      moneyFormats.set(currency, formatter);
    }
    return formatter ? formatter.format(n) : `${formatNumber(n)} ${currency}`;
  },
  percent: (ratio: number): string =>
    new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 }).format(ratio),
  /** "2 min 5 s", "45 s". */
  duration(seconds: number): string {
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return `${s} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
    return `${Math.floor(m / 60)} h ${m % 60} min`;
  },
  time: (iso: string | number): string =>
    new Date(iso).toLocaleTimeString(undefined, {
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    }),
  bytes(n: number): string {
    const units = ['B', 'KB', 'MB', 'GB'];
    let value = n;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return `${new Intl.NumberFormat(undefined, { maximumFractionDigits: unit === 0 ? 0 : 1 }).format(value)} ${units[unit] ?? 'B'}`;
  },
};

// ---------------------------------------------------------------------------------------------
// Toasts

/** A short message in the shell's live region; errors stay longer. */
export function toast(text: string, kind: 'info' | 'error' = 'info'): HTMLElement {
  const region = document.getElementById('toasts');
  const node = el('div', { className: 'toast', dataset: { kind } }, text);
  region?.append(node);
  setTimeout(
    () => {
      node.remove();
    },
    kind === 'error' ? 12_000 : 8_000,
  );
  return node;
}

// ---------------------------------------------------------------------------------------------
// The server's reachability

type Reachability = 'online' | 'offline';
const listeners = new Set<(state: Reachability) => void>();
let offline = false;
let probe: ReturnType<typeof setTimeout> | undefined;

/** Calls `listener` whenever the server becomes unreachable or reachable again. */
export function onReachability(listener: (state: Reachability) => void): void {
  listeners.add(listener);
}

function setBanner(text: string | null): void {
  const banner = document.getElementById('banner');
  if (!banner) return;
  banner.hidden = text === null;
  banner.textContent = text ?? '';
}

/**
 * The server could not be reached (a failed request, a dropped live connection): shows the
 * banner and probes `/healthz` with a growing pause until it answers.
 */
export function reportUnreachable(): void {
  if (offline) return;
  offline = true;
  setBanner('Agora is unreachable. Retrying…');
  for (const l of listeners) l('offline');
  let pause = 500;
  const attempt = (): void => {
    probe = setTimeout(() => {
      fetch('/healthz', { cache: 'no-store' })
        .then((res) => {
          if (res.ok) reportReachable();
          else attempt();
        })
        .catch(attempt);
    }, pause);
    pause = Math.min(pause * 2, 5000);
  };
  attempt();
}

/** The server answered: hides the banner and tells the page, which reloads what it shows. */
export function reportReachable(): void {
  if (!offline) return;
  offline = false;
  clearTimeout(probe);
  setBanner(null);
  toast('Agora is reachable again.');
  for (const l of listeners) l('online');
}

// ---------------------------------------------------------------------------------------------
// API calls

/** An answer that is not a success, with the server's message and request id when it gave them. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
    readonly requestId: string | null = null,
  ) {
    super(message);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The message of either error body: `{error: {message}}` (Agora) or `{error: "…"}` (market). */
export function errorMessage(body: unknown, fallback: string): string {
  if (!isObject(body)) return fallback;
  const { error } = body;
  if (typeof error === 'string') return error;
  if (isObject(error) && typeof error.message === 'string') return error.message;
  return fallback;
}

/**
 * Fetches JSON. A network failure reports the server unreachable and throws an ApiError with
 * status 0; any non-2xx answer throws an ApiError with the server's message.
 */
export async function api<T>(url: string, init: RequestInit = {}): Promise<T> {
  let res: Response;
  try {
    const headers = new Headers(init.headers);
    if (!headers.has('accept')) headers.set('accept', 'application/json');
    res = await fetch(url, { ...init, headers });
  } catch {
    reportUnreachable();
    throw new ApiError(0, 'Agora is unreachable; nothing was done. Try again when it is back.');
  }
  reportReachable();
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const requestId = res.headers.get('x-request-id');
    throw new ApiError(res.status, errorMessage(body, `HTTP ${res.status}`), body, requestId);
  }
  return body as T;
}

/** A JSON body for `api`. */
export function json(
  method: string,
  body: unknown,
  headers: Record<string, string> = {},
): RequestInit {
  return {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/** How an error reads on a page: the message, and the request id to quote. */
export function describe(err: unknown): string {
  if (err instanceof ApiError)
    return err.requestId ? `${err.message} (request ${err.requestId})` : err.message;
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------------------------
// Buttons in flight, confirmation

/**
 * Runs `work` with `button` marked busy (spinner, `aria-busy`); a second press while busy is
 * ignored. The button keeps its focus (it is not disabled), so keyboard users stay in place.
 */
export async function busy<T>(button: HTMLElement, work: () => Promise<T>): Promise<T | undefined> {
  if (button.getAttribute('aria-busy') === 'true') return undefined;
  button.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.removeAttribute('aria-busy');
  }
}

/** A modal question; resolves true when the user confirms, false when they cancel or escape. */
export function confirmDialog(options: {
  title: string;
  body: string;
  confirm: string;
  cancel?: string;
  danger?: boolean;
}): Promise<boolean> {
  const before = document.activeElement;
  const heading = el('h2', { id: `dialog-${Math.random().toString(36).slice(2)}` }, options.title);
  const yes = el(
    'button',
    { type: 'submit', value: 'yes', className: options.danger ? 'danger' : 'primary' },
    options.confirm,
  );
  const no = el('button', { type: 'submit', value: 'no' }, options.cancel ?? 'Cancel');
  const dialog = el(
    'dialog',
    { attrs: { 'aria-labelledby': heading.id } },
    el(
      'form',
      { method: 'dialog' },
      heading,
      el('p', {}, options.body),
      el('div', { className: 'actions' }, no, yes),
    ),
  );
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'yes');
      dialog.remove();
      if (before instanceof HTMLElement) before.focus();
    });
    dialog.showModal();
    yes.focus();
  });
}

// ---------------------------------------------------------------------------------------------
// The shell

let infoPromise: Promise<Info> | undefined;

/** `/api/info`, read once per page. */
export function info(): Promise<Info> {
  infoPromise ??= api<Info>('/api/info');
  return infoPromise;
}

/** Points the header's links at the enabled modules' pages, and hides the others. */
export async function fixNavigation(): Promise<void> {
  const data = await info().catch(() => null);
  if (!data) return;
  for (const link of document.querySelectorAll<HTMLAnchorElement>('.site a[data-nav]')) {
    const name = link.dataset.nav;
    if (name === 'docs') {
      link.href = data.docs;
      continue;
    }
    const mod = data.modules.find((m) => m.name === name);
    const item = link.closest('li');
    if (item) item.hidden = !mod?.page;
    if (mod?.page) link.href = mod.page;
  }
}
