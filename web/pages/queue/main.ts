/**
 * The queue page: take a token (kept in this tab's session storage with its secret), watch the
 * live board (SSE; every browser sees every event), see your position and, as head, a countdown;
 * claim the picture and keep it for the view window.
 */
import type { Board, Claimed } from '../../../src/modules/queue/queue.schemas.js';

interface Mine {
  token: string;
  secret: string;
}

const base = location.pathname.replace(/\/+$/, '');

function $<T extends HTMLElement>(id: string, type: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`#${id} missing`);
  return el;
}
const text = (id: string, value: string): void => {
  $(id, HTMLElement).textContent = value;
};

let mine: Mine | null = JSON.parse(sessionStorage.getItem('agora-queue') ?? 'null') as Mine | null;
let board: Board = { head: null, deadline: null, serving: [], waiting: [], length: 0 };
let timer: number | undefined;

function save(value: Mine | null): void {
  mine = value;
  if (value) sessionStorage.setItem('agora-queue', JSON.stringify(value));
  else sessionStorage.removeItem('agora-queue');
}

function renderBoard(): void {
  text('head', board.head ?? '—');
  text(
    'head-deadline',
    board.deadline ? `until ${new Date(board.deadline).toLocaleTimeString()}` : '',
  );
  text('serving', board.serving.length > 0 ? board.serving.join(' ') : '—');
  text('length', `(${board.length} waiting)`);
  const list = $('board', HTMLOListElement);
  list.replaceChildren(
    ...board.waiting.map((code) => {
      const li = document.createElement('li');
      li.textContent = code;
      if (code === mine?.token) li.className = 'me';
      return li;
    }),
  );
  const rest = board.length - 1 - board.waiting.length;
  text('rest', rest > 0 ? `… and ${rest} more` : '');
  renderMine();
}

function renderMine(): void {
  $('take', HTMLButtonElement).hidden = mine !== null;
  $('ticket', HTMLElement).hidden = mine === null;
  if (!mine) return;
  text('my-token', mine.token);
  const isHead = board.head === mine.token;
  const index = board.waiting.indexOf(mine.token);
  const claim = $('claim', HTMLButtonElement);
  claim.disabled = !isHead;
  if (isHead) text('my-status', 'It is your turn!');
  else if (index >= 0) text('my-status', `You are number ${index + 2} in the line.`);
  else if (board.serving.includes(mine.token)) text('my-status', 'Enjoy your kitty.');
  else text('my-status', 'Your token is no longer in the line.');
  const countdown = $('countdown', HTMLElement);
  window.clearInterval(timer);
  countdown.hidden = !isHead || board.deadline === null;
  if (isHead && board.deadline) {
    const deadline = Date.parse(board.deadline);
    const tick = (): void => {
      const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
      countdown.textContent = `${left} s left to claim`;
    };
    tick();
    timer = window.setInterval(tick, 1000);
  }
}

async function refresh(): Promise<void> {
  const res = await fetch(base, { headers: { accept: 'application/json' } });
  if (res.ok) {
    board = (await res.json()) as Board;
    renderBoard();
  }
}

function connect(): void {
  // Mounted at the root, the queue leaves `/events` to the core's stream, which takes topics
  // and sends no snapshot: the board is then read on every (re)connection.
  const events = new EventSource(base === '' ? '/events?topics=queue' : `${base}/events`);
  events.addEventListener('open', () => {
    text('live', 'live');
    if (base === '') void refresh();
  });
  events.addEventListener('error', () => text('live', 'reconnecting…'));
  events.addEventListener('snapshot', (e) => {
    board = JSON.parse((e as MessageEvent<string>).data) as Board;
    renderBoard();
  });
  // Every change: the board is small, so read it again rather than patch it.
  for (const type of [
    'token-issued',
    'token-removed',
    'head-changed',
    'serving-started',
    'serving-ended',
  ]) {
    events.addEventListener(type, () => void refresh());
  }
}

async function errorText(res: Response): Promise<string> {
  try {
    return (
      ((await res.json()) as { error?: { message?: string } }).error?.message ??
      `HTTP ${res.status}`
    );
  } catch {
    return `HTTP ${res.status}`;
  }
}

$('take', HTMLButtonElement).addEventListener('click', () => {
  void (async () => {
    text('message', '');
    const res = await fetch(`${base}/tokens`, {
      method: 'POST',
      headers: { accept: 'application/json' },
    });
    if (!res.ok) {
      text('message', await errorText(res));
      return;
    }
    const body = (await res.json()) as Mine;
    save({ token: body.token, secret: body.secret });
    renderMine();
  })();
});

$('copy', HTMLButtonElement).addEventListener('click', () => {
  if (mine) void navigator.clipboard.writeText(mine.token).catch(() => undefined);
});

$('claim', HTMLButtonElement).addEventListener('click', () => {
  void (async () => {
    if (!mine) return;
    text('message', '');
    const res = await fetch(`${base}/tokens/${mine.token}/claim`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ secret: mine.secret }),
    });
    if (!res.ok) {
      text('message', await errorText(res));
      return;
    }
    const body = (await res.json()) as Claimed;
    $('kitty', HTMLImageElement).src = body.image_url;
    $('download', HTMLAnchorElement).href = body.image_url;
    text('view-until', new Date(body.view_until).toLocaleTimeString());
    const picture = $('picture', HTMLElement);
    picture.hidden = false;
    // The picture is yours for the view window only.
    window.setTimeout(
      () => {
        picture.hidden = true;
      },
      Math.max(0, Date.parse(body.view_until) - Date.now()),
    );
  })();
});

renderMine();
connect();
