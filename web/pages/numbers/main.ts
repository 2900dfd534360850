/**
 * The numbers page: fires concurrent `GET /total` requests, shows each total and time, and
 * polls the server's event-loop delay meanwhile — it stays low because the sums run in slices.
 */
import type { NumbersStats } from '../../../src/modules/numbers/numbers.schemas.js';
import { fixNavigation } from '../../src/ui.js';

const base = location.pathname.replace(/\/+$/, '');

function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el;
}

let totalPath = '/total';
let fired = 0;
const history: number[] = [];

function draw(): void {
  const canvas = $('chart') as HTMLCanvasElement;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const width = canvas.width / 60;
  history.forEach((ms, i) => {
    const h = Math.min(1, ms / 50) * canvas.height;
    ctx.fillStyle = ms < 10 ? '#12b76a' : '#f04438';
    ctx.fillRect(i * width, canvas.height - h, width - 1, Math.max(h, 1));
  });
}

async function poll(): Promise<void> {
  try {
    const res = await fetch(`${base}/stats`, { headers: { accept: 'application/json' } });
    if (res.ok) {
      const s = (await res.json()) as NumbersStats;
      totalPath = s.total_path;
      $('total-path').textContent = s.total_path;
      $('source').textContent =
        s.source === 'simulated'
          ? `Source: simulated — the integers 0 … ${(s.count - 1).toLocaleString('en')} after ${s.delay_ms} ms.`
          : 'Source: an HTTP upstream, parsed as it streams.';
      $('source').dataset.ready = '';
      $('p50').textContent = s.event_loop.p50_ms.toFixed(2);
      $('p99').textContent = s.event_loop.p99_ms.toFixed(2);
      $('max').textContent = s.event_loop.max_ms.toFixed(2);
      $('calls').textContent = String(s.upstream_calls);
      $('coalesced').textContent = String(s.coalesced);
      $('in-flight').textContent = s.in_flight ? 'yes' : 'no';
      history.push(s.event_loop.max_ms);
      if (history.length > 60) history.shift();
      draw();
    }
  } catch {
    // the server is restarting; the next poll tries again
  }
  setTimeout(() => void poll(), 1000);
}

interface Row {
  tr: HTMLTableRowElement;
  total: HTMLTableCellElement;
  time: HTMLTableCellElement;
  status: HTMLTableCellElement;
}

function row(n: number): Row {
  const tr = document.createElement('tr');
  const cell = (text: string, className = ''): HTMLTableCellElement => {
    const td = document.createElement('td');
    td.textContent = text;
    td.className = className;
    tr.append(td);
    return td;
  };
  cell(String(n));
  return { tr, total: cell('', 'num'), time: cell('', 'num'), status: cell('waiting…') };
}

async function fireOne(r: Row): Promise<void> {
  const started = performance.now();
  try {
    // no-store: a browser otherwise queues identical GETs behind its cache lock, one by one.
    const res = await fetch(totalPath, {
      cache: 'no-store',
      headers: { accept: 'application/json' },
    });
    // The total may exceed 2^53: show the digits as sent rather than a rounded number.
    const text = await res.text();
    r.time.textContent = (performance.now() - started).toFixed(0);
    if (res.ok) {
      r.total.textContent = /"total":(-?[0-9.eE+-]+)/.exec(text)?.[1] ?? text;
      r.status.textContent = 'ok';
    } else {
      const body = JSON.parse(text) as { error?: { message?: string } };
      r.status.textContent = `${res.status} ${body.error?.message ?? ''}`;
      r.tr.classList.add('error');
    }
  } catch (err) {
    r.status.textContent = (err as Error).message;
    r.tr.classList.add('error');
  }
}

$('fire').addEventListener('submit', (event) => {
  event.preventDefault();
  const n = Math.max(1, Math.min(64, Number(($('concurrency') as HTMLInputElement).value) || 1));
  const body = $('results');
  const rows = Array.from({ length: n }, () => row(++fired));
  body.prepend(...rows.map((r) => r.tr).reverse());
  void Promise.all(rows.map((r) => fireOne(r)));
});

void poll();

void fixNavigation();
