/**
 * The numbers page: asks the server to fire n concurrent requests at the total (a browser
 * cannot: it sends six at a time to one host) and shows each answer as it streams in, with how
 * many shared one upstream call; and charts the server's event-loop delay, live, against the
 * 10 ms threshold (uPlot).
 */
import type uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type {
  FanOutAnswer,
  FanOutSummary,
  NumbersStats,
} from '../../../src/modules/numbers/numbers.schemas.js';
import {
  api,
  ApiError,
  busy,
  byId,
  describe,
  el,
  fixNavigation,
  format,
  setText,
} from '../../src/ui.js';

const base = location.pathname.replace(/\/+$/, '');
const THRESHOLD_MS = 10;
const ms = (n: number): string => `${format.number(Math.round(n * 10) / 10)} ms`;

/** A total as sent (exact, possibly beyond 2^53), with the reader's digit grouping. */
function showTotal(raw: string): string {
  if (/^-?\d+$/.test(raw)) return BigInt(raw).toLocaleString();
  const n = Number(raw);
  return Number.isFinite(n) ? n.toLocaleString(undefined, { maximumFractionDigits: 6 }) : raw;
}

// ---------------------------------------------------------------------------------------------
// The chart

const seconds: number[] = [];
const worst: number[] = [];
const css = (name: string): string =>
  getComputedStyle(document.documentElement).getPropertyValue(name).trim();

/**
 * The chart library is loaded with the first figures, not with the page: it is most of the
 * page's script, and it makes an Intl formatter as it loads (tens of ms in a fresh browser).
 */
async function makeChart(): Promise<uPlot> {
  const { default: UPlot } = await import('uplot');
  const box = byId('chart', HTMLElement);
  const axis = {
    stroke: css('--muted'),
    grid: { stroke: css('--line'), width: 1 },
    ticks: { stroke: css('--line'), width: 1 },
  };
  return new UPlot(
    {
      width: Math.max(280, box.clientWidth),
      height: 200,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(20, max * 1.2)] } },
      axes: [axis, { ...axis, label: 'ms', size: 50 }],
      series: [
        {},
        {
          label: 'worst delay (ms)',
          stroke: css('--accent'),
          width: 2,
          fill: css('--accent-soft'),
        },
        {
          label: '10 ms',
          stroke: css('--danger'),
          width: 1,
          dash: [6, 4],
          points: { show: false },
        },
      ],
      legend: { live: false },
    },
    [[], [], []],
    box,
  );
}
let chart: Promise<uPlot> | undefined;
let drawn: uPlot | undefined;

async function draw(): Promise<void> {
  // A failed load (the server away) is tried again with the next figures.
  chart ??= makeChart().catch((err: unknown) => {
    chart = undefined;
    throw err;
  });
  drawn = await chart;
  drawn.setData([seconds, worst, seconds.map(() => THRESHOLD_MS)]);
}
window.addEventListener('resize', () => {
  const box = document.getElementById('chart');
  if (drawn && box) drawn.setSize({ width: Math.max(280, box.clientWidth), height: 200 });
});

async function poll(): Promise<void> {
  try {
    const s = await api<NumbersStats>(`${base}/stats`);
    setText('total-path', s.total_path);
    setText(
      'source',
      s.source === 'simulated'
        ? `Source: simulated, the integers 0 … ${format.number(s.count - 1)} after ${ms(s.delay_ms)}.`
        : 'Source: an HTTP upstream, summed as it streams.',
    );
    byId('source', HTMLElement).dataset.ready = '';
    setText('p50', ms(s.event_loop.p50_ms));
    setText('p99', ms(s.event_loop.p99_ms));
    setText('max', ms(s.event_loop.max_ms));
    setText('calls', format.number(s.upstream_calls));
    setText('coalesced', format.number(s.coalesced));
    setText('in-flight', s.in_flight ? 'yes' : 'no');
    seconds.push(Date.now() / 1000);
    worst.push(s.event_loop.max_ms);
    if (seconds.length > 60) {
      seconds.shift();
      worst.shift();
    }
    await draw();
  } catch {
    // The banner says the server is away; the next poll tries again.
  }
  setTimeout(() => void poll(), 1000);
}

// ---------------------------------------------------------------------------------------------
// The fan-out

async function fire(n: number): Promise<void> {
  const body = byId('results', HTMLTableSectionElement);
  body.replaceChildren();
  setText('summary', `Firing ${format.number(n)} requests at once…`);
  const rows = new Map<number, HTMLTableRowElement>();
  for (let i = 1; i <= n; i++) {
    const row = el(
      'tr',
      { dataset: { i: String(i) } },
      el('td', { className: 'num' }, String(i)),
      el('td', { className: 'num total' }),
      el('td', { className: 'num time' }),
      el('td', { className: 'status' }, 'waiting…'),
    );
    rows.set(i, row);
    body.append(row);
  }
  let res: Response;
  try {
    res = await fetch(`${base}/fan-out?n=${String(n)}`, { cache: 'no-store' });
  } catch (err) {
    setText('summary', describe(new ApiError(0, `The server is unreachable (${describe(err)}).`)));
    return;
  }
  if (!res.ok || !res.body) {
    const problem = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
    setText('summary', `Refused: ${problem?.error?.message ?? `HTTP ${String(res.status)}`}`);
    return;
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    pending += value;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines.filter(Boolean))
      show(JSON.parse(line) as FanOutAnswer | FanOutSummary, rows);
  }
}

function show(line: FanOutAnswer | FanOutSummary, rows: Map<number, HTMLTableRowElement>): void {
  if ('done' in line) {
    const shared =
      line.upstream_calls === 0
        ? 'all were answered from the cache'
        : `the upstream was called ${line.upstream_calls === 1 ? 'once' : `${format.number(line.upstream_calls)} times`}; ${format.number(line.coalesced)} shared a running sum`;
    setText(
      'summary',
      `${format.number(line.n)} requests answered in ${ms(line.ms)}: ${shared}. Worst event-loop delay meanwhile: ${ms(line.event_loop_max_ms)}.`,
    );
    return;
  }
  const row = rows.get(line.i);
  if (!row) return;
  const cells = row.querySelectorAll('td');
  if (cells[1]) cells[1].textContent = line.total === undefined ? '' : showTotal(line.total);
  if (cells[2]) cells[2].textContent = ms(line.ms);
  if (cells[3])
    cells[3].textContent =
      line.status === 200 ? 'ok' : `${String(line.status)} ${line.error ?? ''}`;
  if (line.status !== 200) row.classList.add('error');
}

byId('fire', HTMLFormElement).addEventListener('submit', (event) => {
  event.preventDefault();
  const input = byId('concurrency', HTMLInputElement);
  const n = Math.max(1, Math.min(64, Math.round(Number(input.value)) || 1));
  input.value = String(n);
  const button = byId('fire', HTMLFormElement).querySelector('button');
  if (button) void busy(button, () => fire(n));
});

void poll();
void fixNavigation();
