/**
 * The gallery. Upload by keyboard or drop, with each file's progress and a readable refusal;
 * thumbnails and previews are derivatives rendered by the engine (never the full original);
 * the editor covers every operation of the API and shows the resulting URL with its size and
 * time; download, delete (admin), albums and metadata.
 */
import type { ImageList, ImageMeta } from '../../../src/modules/images/images.schemas.js';
import {
  api,
  busy,
  byId,
  confirmDialog,
  describe,
  el,
  errorMessage,
  fixNavigation,
  format,
} from '../../src/ui.js';

const base = location.pathname.replace(/\/+$/, '');
const ADMIN_KEY = 'agora.images.admin-token';
const grid = byId('grid', HTMLUListElement);
const status = byId('status', HTMLElement);
const more = byId('more', HTMLButtonElement);
const dialog = byId('detail', HTMLDialogElement);
const albumFilter = byId('album', HTMLInputElement);
const adminToken = byId('admin-token', HTMLInputElement);
adminToken.value = sessionStorage.getItem(ADMIN_KEY) ?? '';
adminToken.addEventListener('change', () => {
  sessionStorage.setItem(ADMIN_KEY, adminToken.value);
});
byId('admin-form', HTMLFormElement).addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(ADMIN_KEY, adminToken.value);
});

let cursor: string | null = null;
let current: ImageMeta | null = null;
const albums = new Set<string>();
const name = (meta: ImageMeta): string => meta.filename ?? meta.id;

function noteAlbum(album: string | null): void {
  if (!album || albums.has(album)) return;
  albums.add(album);
  byId('albums', HTMLDataListElement).append(el('option', { value: album }));
}

// ---------------------------------------------------------------------------------------------
// The grid

/**
 * A preview the server listed, under this page's own path (behind a proxy that adds a prefix, the
 * server's `/images/…` is not where the browser finds it).
 */
const listedPreview = (meta: ImageMeta, size: keyof ImageMeta['previews']): string => {
  const url = meta.previews[size];
  return `${base}/${url.slice(url.lastIndexOf('/') + 1)}`;
};

function tile(meta: ImageMeta): HTMLLIElement {
  noteAlbum(meta.album);
  // A square derivative at the screen's density: 160 CSS px wide tiles, 320 or 640 pixels.
  const img = el('img', {
    alt: '',
    loading: 'lazy',
    // The server's own preview URLs: signed when it signs derived URLs, which the page cannot.
    src: listedPreview(meta, '320'),
    srcset: `${listedPreview(meta, '320')} 1x, ${listedPreview(meta, '640')} 2x`,
  });
  const button = el(
    'button',
    {
      type: 'button',
      title: name(meta),
      dataset: { id: meta.id },
      attrs: { 'aria-label': `${name(meta)}, ${String(meta.width)} × ${String(meta.height)}` },
    },
    img,
  );
  button.addEventListener('click', () => {
    open(meta);
  });
  return el('li', { dataset: { id: meta.id } }, button);
}

async function load(reset = false): Promise<void> {
  if (reset) {
    cursor = null;
    grid.replaceChildren();
  }
  const query = new URLSearchParams({ limit: '24' });
  if (cursor) query.set('cursor', cursor);
  const album = albumFilter.value.trim();
  if (album) query.set('album', album);
  try {
    const page = await api<ImageList>(`${base}?${query.toString()}`);
    grid.append(...page.items.map(tile));
    cursor = page.next_cursor;
  } catch (err) {
    status.textContent = `Could not list the images: ${describe(err)}`;
  }
  more.hidden = cursor === null;
  byId('empty', HTMLElement).hidden = grid.children.length > 0;
  grid.dataset.ready = '';
}

// ---------------------------------------------------------------------------------------------
// Uploads

/** One file, with its progress (XMLHttpRequest: fetch reports no upload progress). */
function send(file: File, album: string, row: HTMLLIElement): Promise<ImageMeta | null> {
  const bar = el('progress', {
    max: 1,
    value: 0,
    attrs: { 'aria-label': `Upload of ${file.name}` },
  });
  const state = el('span', {}, 'uploading…');
  row.append(bar, state);
  const form = new FormData();
  form.append('image', file, file.name);
  const query = album ? `?album=${encodeURIComponent(album)}` : '';
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${base}${query}`);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) bar.value = e.loaded / e.total;
    });
    xhr.addEventListener('load', () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      bar.value = 1;
      if (xhr.status === 201) {
        state.textContent = 'stored';
        resolve(body as ImageMeta);
      } else {
        state.textContent = `refused: ${errorMessage(body, `HTTP ${String(xhr.status)}`)}`;
        state.className = 'error';
        resolve(null);
      }
    });
    xhr.addEventListener('error', () => {
      state.textContent = 'failed: Agora is unreachable';
      state.className = 'error';
      resolve(null);
    });
    xhr.send(form);
  });
}

async function upload(files: File[]): Promise<void> {
  if (files.length === 0) return;
  const list = byId('uploads', HTMLUListElement);
  list.replaceChildren();
  const album = byId('upload-album', HTMLInputElement).value.trim();
  const queue: { file: File; row: HTMLLIElement }[] = [];
  let refused = 0;
  for (const file of files) {
    const row = el('li', {}, el('span', {}, `${file.name} (${format.bytes(file.size)})`));
    list.append(row);
    // What the browser knows is not an image is said at once; the server judges the rest.
    if (file.type !== '' && !file.type.startsWith('image/')) {
      row.append(el('span', { className: 'error' }, 'skipped: not an image'));
      refused++;
    } else queue.push({ file, row });
  }
  status.textContent = `Uploading ${String(queue.length)} of ${String(files.length)} file${files.length === 1 ? '' : 's'}…`;
  let stored = 0;
  // Two at a time: the second file's bytes go while the first is decoded.
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const meta = await send(next.file, album, next.row);
      if (!meta) {
        refused++;
        continue;
      }
      stored++;
      if (!albumFilter.value.trim() || albumFilter.value.trim() === meta.album)
        grid.prepend(tile(meta));
      byId('empty', HTMLElement).hidden = true;
    }
  };
  await Promise.all([worker(), worker()]);
  status.textContent =
    `Stored ${String(stored)} image${stored === 1 ? '' : 's'}.` +
    (refused > 0 ? ` ${String(refused)} refused: see above.` : '');
}

// ---------------------------------------------------------------------------------------------
// The editor

const field = (id: string): HTMLInputElement => byId(id, HTMLInputElement);
const choice = (id: string): HTMLSelectElement => byId(id, HTMLSelectElement);

/** The operations the editor describes, as query parameters, in the API's order. */
function operations(): URLSearchParams {
  const q = new URLSearchParams();
  const w = field('w').value.trim();
  const h = field('h').value.trim();
  if (w) q.set('w', w);
  if (h) q.set('h', h);
  if (w && h && choice('fit').value) q.set('fit', choice('fit').value);
  if (choice('rotate').value) q.set('rotate', choice('rotate').value);
  for (const flag of ['flip', 'flop', 'grayscale', 'sharpen'])
    if (field(flag).checked) q.set(flag, 'true');
  const blur = field('blur').value.trim();
  if (blur) q.set('blur', blur);
  if (choice('mask').value) q.set('mask', choice('mask').value);
  const quality = field('quality').value.trim();
  if (quality) q.set('quality', quality);
  return q;
}

function urlOf(meta: ImageMeta, q: URLSearchParams): string {
  const ext = choice('format').value;
  const query = q.toString();
  return `${base}/${meta.id}${ext ? `.${ext}` : ''}${query ? `?${query}` : ''}`;
}

let objectUrl: string | null = null;
let renderSeq = 0;

/**
 * The server signs derived URLs (`images.signing_key`): the page, without the key, can show only
 * the previews the server listed.
 */
const signed = (meta: ImageMeta): boolean =>
  new URL(meta.previews['320'], location.origin).searchParams.has('sig');

/** Renders the editor's result: the preview, its URL, its size against the original, its time. */
async function render(): Promise<void> {
  const meta = current;
  if (!meta) return;
  const seq = ++renderSeq;
  if (signed(meta)) {
    const img = byId('detail-img', HTMLImageElement);
    img.src = listedPreview(meta, '640');
    img.hidden = false;
    img.alt = `${name(meta)}, 640 px preview`;
    field('url').value = new URL(listedPreview(meta, '640'), location.origin).href;
    byId('download', HTMLAnchorElement).href = listedPreview(meta, '640');
    byId('render-error', HTMLElement).textContent =
      'This server signs its image URLs: the page shows the 640 px preview. Other versions are made with the signing key, by the client library or the CLI.';
    byId('render-info', HTMLElement).textContent = '';
    return;
  }
  const q = operations();
  const result = urlOf(meta, q);
  field('url').value = new URL(result, location.origin).href;
  byId('download', HTMLAnchorElement).href = result;
  // The preview is never the full original: without a size of the user's, it is the result
  // scaled to the screen.
  const screen = Math.round(Math.min(1200, window.innerWidth * window.devicePixelRatio));
  const sized = q.has('w') || q.has('h');
  const scaled = !sized && meta.width > screen;
  const previewQuery = new URLSearchParams(q);
  if (scaled) previewQuery.set('w', String(screen));
  // Shown as is, the original: a same-size, same-format rendering of it, metadata stripped.
  if (!scaled && previewQuery.toString() === '' && !choice('format').value)
    previewQuery.set('w', String(meta.width));
  const preview = urlOf(meta, previewQuery);
  const error = byId('render-error', HTMLElement);
  const img = byId('detail-img', HTMLImageElement);
  const info = byId('render-info', HTMLElement);
  info.textContent = 'Rendering…';
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(preview, { cache: 'no-store' });
  } catch (err) {
    if (seq !== renderSeq) return;
    error.textContent = `Could not render: ${describe(err)}`;
    img.hidden = true;
    info.textContent = '';
    return;
  }
  const blob = res.ok ? await res.blob() : null;
  if (seq !== renderSeq) return;
  const ms = performance.now() - started;
  if (!res.ok || !blob) {
    const body: unknown = await res.json().catch(() => null);
    error.textContent = `This version cannot be made: ${errorMessage(body, `HTTP ${String(res.status)}`)}`;
    img.hidden = true;
    info.textContent = '';
    return;
  }
  error.textContent = '';
  if (objectUrl) URL.revokeObjectURL(objectUrl);
  objectUrl = URL.createObjectURL(blob);
  img.src = objectUrl;
  img.hidden = false;
  img.alt = `${name(meta)}, as rendered by this URL`;
  const type = (res.headers.get('content-type') ?? '').replace('image/', '').toUpperCase();
  const cache = res.headers.get('x-cache') === 'hit' ? 'from the cache' : 'rendered';
  const ratio = blob.size / meta.bytes;
  info.textContent = scaled
    ? `Preview ${String(screen)} px wide: ${type}, ${format.bytes(blob.size)}, ${cache} in ${format.number(Math.round(ms))} ms. The full-size result is rendered when its URL is opened.`
    : `${type}, ${format.bytes(blob.size)} (${format.percent(ratio)} of the original's ${format.bytes(meta.bytes)}), ${cache} in ${format.number(Math.round(ms))} ms.`;
}

let pending: number | undefined;
function renderSoon(): void {
  window.clearTimeout(pending);
  pending = window.setTimeout(() => void render(), 250);
}

function open(meta: ImageMeta): void {
  current = meta;
  byId('editor', HTMLFormElement).reset();
  byId('detail-title', HTMLElement).textContent = name(meta);
  byId('detail-meta', HTMLElement).textContent = [
    `${meta.format.toUpperCase()}, ${format.number(meta.width)} × ${format.number(meta.height)} px, ${format.bytes(meta.bytes)}`,
    meta.album ? `album ${meta.album}` : 'no album',
    `uploaded ${new Date(meta.created_at).toLocaleString()}`,
    `SHA-256 ${meta.sha256.slice(0, 12)}…`,
  ].join(' · ');
  byId('original', HTMLAnchorElement).href = `${base}/${meta.id}`;
  dialog.showModal();
  void render();
}

byId('editor', HTMLFormElement).addEventListener('input', renderSoon);
byId('editor', HTMLFormElement).addEventListener('change', renderSoon);
byId('editor', HTMLFormElement).addEventListener('submit', (e) => {
  e.preventDefault();
  void render();
});
byId('close', HTMLButtonElement).addEventListener('click', () => {
  dialog.close();
});
dialog.addEventListener('close', () => {
  current = null;
  if (objectUrl) URL.revokeObjectURL(objectUrl);
  objectUrl = null;
});
byId('copy', HTMLButtonElement).addEventListener('click', () => {
  void navigator.clipboard.writeText(field('url').value).then(
    () => {
      byId('render-info', HTMLElement).textContent = 'URL copied.';
    },
    () => {
      field('url').select();
    },
  );
});
byId('delete', HTMLButtonElement).addEventListener('click', (e) => {
  const meta = current;
  if (!meta) return;
  void busy(e.currentTarget as HTMLButtonElement, async () => {
    const yes = await confirmDialog({
      title: `Delete ${name(meta)}?`,
      body: 'Its URLs stop working at once. Its bytes go when no other image shares them.',
      confirm: 'Delete',
      danger: true,
    });
    if (!yes) return;
    const token = adminToken.value.trim();
    try {
      await api(`${base}/${meta.id}`, {
        method: 'DELETE',
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      grid.querySelector(`li[data-id="${meta.id}"]`)?.remove();
      dialog.close();
      status.textContent = `${name(meta)} deleted.`;
      byId('empty', HTMLElement).hidden = grid.children.length > 0;
    } catch (err) {
      byId('render-error', HTMLElement).textContent =
        `Not deleted: ${describe(err)}. Deleting needs the admin token (Administration, below the gallery).`;
    }
  });
});

// ---------------------------------------------------------------------------------------------

const drop = byId('drop', HTMLElement);
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  void upload([...(e.dataTransfer?.files ?? [])]);
});
const files = byId('files', HTMLInputElement);
byId('pick', HTMLButtonElement).addEventListener('click', () => {
  files.click();
});
files.addEventListener('change', () => {
  void upload([...(files.files ?? [])]).then(() => {
    files.value = '';
  });
});
more.addEventListener('click', () => void busy(more, () => load()));
let filterTimer: number | undefined;
albumFilter.addEventListener('input', () => {
  window.clearTimeout(filterTimer);
  filterTimer = window.setTimeout(() => void load(true), 300);
});

void load();
void fixNavigation();
