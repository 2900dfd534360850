/**
 * The gallery: drag-and-drop (or pick) several images to upload them, a grid of thumbnails
 * served by the engine, and a detail view that builds a converted/resized URL to copy.
 */
import type { ImageList, ImageMeta } from '../../../src/modules/images/images.schemas.js';
import { fixNavigation } from '../../src/ui.js';

const base = location.pathname.replace(/\/+$/, '');

function $<T extends HTMLElement>(id: string, type: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`#${id} missing`);
  return el;
}

const grid = $('grid', HTMLUListElement);
const status = $('status', HTMLElement);
const more = $('more', HTMLButtonElement);
const dialog = $('detail', HTMLDialogElement);
const format = $('format', HTMLSelectElement);
const width = $('width', HTMLInputElement);
let cursor: string | null = null;
let current: ImageMeta | null = null;

function tile(meta: ImageMeta): HTMLLIElement {
  const li = document.createElement('li');
  const button = document.createElement('button');
  button.type = 'button';
  button.title = meta.filename ?? meta.id;
  button.dataset.id = meta.id;
  const img = document.createElement('img');
  img.alt = meta.filename ?? meta.id;
  img.loading = 'lazy';
  img.src = `${base}/${meta.id}.webp?thumbnail=320`;
  button.append(img);
  button.addEventListener('click', () => {
    open(meta);
  });
  li.append(button);
  return li;
}

function detailUrl(meta: ImageMeta): string {
  const ext = format.value ? `.${format.value}` : '';
  const w = width.value.trim();
  return `${base}/${meta.id}${ext}${w ? `?w=${encodeURIComponent(w)}` : ''}`;
}

function refresh(): void {
  if (!current) return;
  const path = detailUrl(current);
  $('detail-img', HTMLImageElement).src = path;
  $('url', HTMLInputElement).value = new URL(path, location.origin).href;
}

function open(meta: ImageMeta): void {
  current = meta;
  format.value = '';
  width.value = '';
  $('detail-meta', HTMLElement).textContent =
    `${meta.filename ?? meta.id} · ${meta.format.toUpperCase()} ${meta.width}×${meta.height} · ${meta.bytes.toLocaleString('en')} bytes`;
  refresh();
  dialog.showModal();
}

async function load(): Promise<void> {
  const query = new URLSearchParams({ limit: '24' });
  if (cursor) query.set('cursor', cursor);
  const res = await fetch(`${base}?${query.toString()}`, {
    headers: { accept: 'application/json' },
  });
  if (!res.ok) {
    status.textContent = `Could not list the images (HTTP ${res.status}).`;
    return;
  }
  const page = (await res.json()) as ImageList;
  grid.append(...page.items.map(tile));
  cursor = page.next_cursor;
  more.hidden = cursor === null;
  grid.dataset.ready = '';
}

async function upload(files: File[]): Promise<void> {
  const images = files.filter((f) => f.type.startsWith('image/') || f.type === '');
  if (images.length === 0) return;
  const form = new FormData();
  for (const f of images) form.append('image', f, f.name);
  status.textContent = `Uploading ${images.length} image${images.length > 1 ? 's' : ''}…`;
  const res = await fetch(base, {
    method: 'POST',
    body: form,
    headers: { accept: 'application/json' },
  });
  const body = (await res.json()) as ImageMeta | ImageMeta[] | { error: { message: string } };
  if (!res.ok) {
    status.textContent = `Upload refused: ${'error' in body ? body.error.message : `HTTP ${res.status}`}`;
    return;
  }
  const stored = Array.isArray(body) ? body : [body as ImageMeta];
  grid.prepend(...stored.map(tile));
  status.textContent = `Stored ${stored.length} image${stored.length > 1 ? 's' : ''}.`;
}

const drop = $('drop', HTMLElement);
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
$('files', HTMLInputElement).addEventListener('change', (e) => {
  const input = e.target as HTMLInputElement;
  void upload([...(input.files ?? [])]).then(() => {
    input.value = '';
  });
});
format.addEventListener('change', refresh);
width.addEventListener('input', refresh);
$('copy', HTMLElement).addEventListener('click', () => {
  void navigator.clipboard.writeText($('url', HTMLInputElement).value).then(
    () => (status.textContent = 'URL copied.'),
    () => $('url', HTMLInputElement).select(),
  );
});
more.addEventListener('click', () => void load());

void load();

void fixNavigation();
