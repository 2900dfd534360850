/**
 * The queue page. Your token (kept in this tab with its secret) shows its real position and
 * estimated wait from its own endpoint, re-read whenever the line changes; your turn changes the
 * title and, if you asked, plays a sound and shows a notification; a token that ended says why,
 * and a new one is a click away. The board is live for every browser (SSE), and `#display`
 * turns the page into a waiting room's "now serving" screen.
 */
import type { Board, Claimed, IssuedToken } from '../../../src/modules/queue/queue.schemas.js';
import {
  api,
  ApiError,
  busy,
  byId,
  describe,
  fixNavigation,
  format,
  json,
  onReachability,
  reportReachable,
  reportUnreachable,
  setText,
} from '../../src/ui.js';

interface Mine {
  token: string;
  secret: string;
  /** Where the token started, for the progress bar. */
  joinedAt: number;
}
interface TokenStatus {
  token: string;
  /** `gone`: this page's own word for a token the server does not know (any more). */
  state: 'waiting' | 'head' | 'serving' | 'used' | 'expired' | 'left' | 'gone';
  position: number | null;
  deadline: string | null;
  estimated_wait_s: number | null;
}

const base = location.pathname.replace(/\/+$/, '');
const STORE = 'agora.queue.token';
const SOUND = 'agora.queue.alert-sound';
const TITLE = document.title;

let mine: Mine | null = readMine();
let status: TokenStatus | null = null;
let board: Board = { head: null, deadline: null, serving: [], waiting: [], length: 0 };
let timer: number | undefined;
/** The state last alerted about, so that a turn is announced once. */
let alerted: string | null = null;

function readMine(): Mine | null {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORE) ?? 'null') as Mine | null;
    return saved && typeof saved.token === 'string' ? saved : null;
  } catch {
    return null;
  }
}

function save(value: Mine | null): void {
  mine = value;
  if (value) sessionStorage.setItem(STORE, JSON.stringify(value));
  else sessionStorage.removeItem(STORE);
}

// ---------------------------------------------------------------------------------------------
// The board

function waitingCount(b: Board): number {
  // `length` counts the head, who is being served, not waiting.
  return Math.max(0, b.length - (b.head === null ? 0 : 1));
}

function renderBoard(): void {
  setText('head', board.head ?? '—');
  setText('head-deadline', board.deadline ? `until ${format.time(board.deadline)}` : '');
  setText('serving', board.serving.length > 0 ? board.serving.join(' ') : '—');
  const waiting = waitingCount(board);
  setText('length', waiting === 1 ? '1 waiting' : `${format.number(waiting)} waiting`);
  const list = byId('board', HTMLOListElement);
  list.replaceChildren(
    ...board.waiting.map((code) => {
      const li = document.createElement('li');
      li.textContent = code;
      if (code === mine?.token) {
        li.className = 'me';
        li.setAttribute('aria-current', 'true');
      }
      return li;
    }),
  );
  const rest = waiting - board.waiting.length;
  setText('rest', rest > 0 ? `… and ${format.number(rest)} more` : '');
  // The display mode.
  setText('display-head', board.head ?? '—');
  setText('display-next', board.waiting.slice(0, 5).join('  ') || '—');
  setText('display-length', `${format.number(waiting)} waiting`);
}

// ---------------------------------------------------------------------------------------------
// Your token

const ENDED: Record<string, string> = {
  used: 'You claimed your kitty: that token is used.',
  expired: 'Your turn passed without a claim, so your token expired.',
  left: 'You left the line.',
  gone: 'Your token is not known here any more.',
};

function renderMine(): void {
  const ticket = byId('ticket', HTMLElement);
  const none = byId('no-ticket', HTMLElement);
  const ended = status !== null && ['used', 'expired', 'left', 'gone'].includes(status.state);
  const serving = status?.state === 'serving';
  ticket.hidden = mine === null || ended;
  none.hidden = mine !== null && !ended;
  byId('take', HTMLButtonElement).textContent = ended ? 'Take a new token' : 'Take a token';
  const reason = byId('ended-reason', HTMLElement);
  reason.hidden = !ended;
  reason.textContent = ended && status ? (ENDED[status.state] ?? '') : '';
  window.clearInterval(timer);
  if (mine === null || ended) {
    document.title = TITLE;
    document.body.classList.remove('turn');
    return;
  }
  setText('my-token', mine.token);
  const isHead = status?.state === 'head';
  document.body.classList.toggle('turn', isHead);
  byId('claim', HTMLButtonElement).disabled = !isHead;
  byId('leave', HTMLButtonElement).textContent = serving
    ? 'Put the picture away'
    : 'Leave the line';
  const progress = byId('progress', HTMLProgressElement);
  const countdown = byId('countdown', HTMLElement);
  countdown.hidden = true;
  if (status === null) {
    setText('my-status', 'Finding your place…');
  } else if (isHead) {
    setText('my-status', 'It is your turn! Claim your kitty now.');
    progress.max = 1;
    progress.value = 1;
    document.title = `Your turn! · ${TITLE}`;
    const deadline = status.deadline === null ? null : Date.parse(status.deadline);
    if (deadline !== null) {
      countdown.hidden = false;
      const tick = (): void => {
        const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
        countdown.textContent = `${format.duration(left)} left to claim`;
      };
      tick();
      timer = window.setInterval(tick, 1000);
    }
  } else if (serving) {
    setText('my-status', 'Enjoy your kitty.');
    document.title = TITLE;
  } else {
    const position = status.position ?? 0;
    const wait = status.estimated_wait_s;
    setText(
      'my-status',
      `You are number ${format.number(position)} in the line.` +
        (wait === null ? '' : ` Your turn starts in ${format.duration(wait)} at the latest.`),
    );
    progress.max = Math.max(1, mine.joinedAt - 1);
    progress.value = Math.max(0, mine.joinedAt - position);
    document.title = `#${String(position)} · ${TITLE}`;
  }
  if (isHead && alerted !== mine.token) {
    alerted = mine.token;
    alertTurn(mine.token);
  }
}

/** Your turn: a sound and a notification when asked for (the title and text change anyway). */
function alertTurn(token: string): void {
  if (byId('alert-sound', HTMLInputElement).checked) beep();
  if (
    byId('alert-notify', HTMLInputElement).checked &&
    'Notification' in window &&
    Notification.permission === 'granted'
  ) {
    new Notification('Your turn in the queue', {
      body: `Token ${token}: claim your kitty now.`,
      tag: 'agora-queue-turn',
    });
  }
}

function beep(): void {
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.2, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.6);
  } catch {
    // No audio here: the title and the text say it anyway.
  }
}

/** Reads your token's own state: its real position and wait, however long the line. */
async function refreshMine(): Promise<void> {
  if (!mine) {
    status = null;
    renderMine();
    return;
  }
  const token = mine.token;
  const was = status?.state;
  try {
    status = await api<TokenStatus>(`${base}/tokens/${encodeURIComponent(token)}`);
    // Putting the picture away ends the token as `left`: for its owner, it was used.
    if (was === 'serving' && status.state === 'left') status.state = 'used';
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      status = { token, state: 'gone', position: null, deadline: null, estimated_wait_s: null };
    } else return;
  }
  // Another token may have been taken meanwhile: this answer is then about an old one.
  if (currentToken() === token) renderMine();
}

function currentToken(): string | undefined {
  return mine?.token;
}

let pending: number | undefined;
/** The line changed: re-read the board and your token, at most once per 200 ms. */
function changed(): void {
  if (pending !== undefined) return;
  pending = window.setTimeout(() => {
    pending = undefined;
    void refresh();
  }, 200);
}

async function refresh(): Promise<void> {
  try {
    board = await api<Board>(base);
    renderBoard();
  } catch {
    // The banner says it; the next event or the recovery reads again.
  }
  await refreshMine();
}

// ---------------------------------------------------------------------------------------------
// The live line

function connect(): void {
  // Mounted at the root, the queue leaves `/events` to the core's stream, which takes topics
  // and sends no snapshot: the board is then read on every (re)connection.
  const events = new EventSource(base === '' ? '/events?topics=queue' : `${base}/events`);
  const live = byId('live', HTMLElement);
  events.addEventListener('open', () => {
    live.textContent = 'live';
    live.dataset.status = 'live';
    reportReachable();
    if (base === '') void refresh();
    else void refreshMine();
  });
  events.addEventListener('error', () => {
    live.textContent = 'reconnecting…';
    live.dataset.status = 'offline';
    reportUnreachable();
  });
  events.addEventListener('snapshot', (e) => {
    board = JSON.parse((e as MessageEvent<string>).data) as Board;
    renderBoard();
  });
  for (const type of [
    'token-issued',
    'token-removed',
    'head-changed',
    'serving-started',
    'serving-ended',
  ]) {
    events.addEventListener(type, changed);
  }
}

// ---------------------------------------------------------------------------------------------
// Actions

const message = (value: string): void => {
  setText('message', value);
};

byId('take', HTMLButtonElement).addEventListener('click', (e) => {
  void busy(e.currentTarget as HTMLButtonElement, async () => {
    message('');
    try {
      const issued = await api<IssuedToken>(`${base}/tokens`, { method: 'POST' });
      save({ token: issued.token, secret: issued.secret, joinedAt: issued.position });
      status = {
        token: issued.token,
        state: issued.position === 1 ? 'head' : 'waiting',
        position: issued.position,
        deadline: null,
        estimated_wait_s: issued.estimated_wait_s,
      };
      renderMine();
      renderBoard();
      await refreshMine();
      byId('my-token', HTMLElement).scrollIntoView({ block: 'nearest' });
    } catch (err) {
      message(describe(err));
    }
  });
});

byId('copy', HTMLButtonElement).addEventListener('click', () => {
  if (mine)
    void navigator.clipboard.writeText(mine.token).then(
      () => {
        message('');
        setText('my-status', `Token ${mine?.token ?? ''} copied.`);
      },
      () => undefined,
    );
});

byId('claim', HTMLButtonElement).addEventListener('click', (e) => {
  void busy(e.currentTarget as HTMLButtonElement, async () => {
    if (!mine) return;
    message('');
    try {
      const body = await api<Claimed>(
        `${base}/tokens/${mine.token}/claim`,
        json('POST', { secret: mine.secret }),
      );
      showPicture(body);
      await refreshMine();
    } catch (err) {
      message(describe(err));
      await refreshMine();
    }
  });
});

byId('leave', HTMLButtonElement).addEventListener('click', (e) => {
  void busy(e.currentTarget as HTMLButtonElement, async () => {
    if (!mine) return;
    try {
      await api(`${base}/tokens/${mine.token}`, {
        method: 'DELETE',
        headers: { 'x-token-secret': mine.secret },
      });
      byId('picture', HTMLElement).hidden = true;
      await refreshMine();
    } catch (err) {
      message(describe(err));
    }
  });
});

function showPicture(body: Claimed): void {
  byId('kitty', HTMLImageElement).src = body.image_url;
  byId('download', HTMLAnchorElement).href = body.image_url;
  setText('view-until', format.time(body.view_until));
  const picture = byId('picture', HTMLElement);
  picture.hidden = false;
  // The picture is yours for the view window only.
  window.setTimeout(
    () => {
      picture.hidden = true;
    },
    Math.max(0, Date.parse(body.view_until) - Date.now()),
  );
}

const sound = byId('alert-sound', HTMLInputElement);
sound.checked = localStorage.getItem(SOUND) === 'true';
sound.addEventListener('change', () => {
  localStorage.setItem(SOUND, String(sound.checked));
  if (sound.checked) beep(); // a sample, and the browser now allows sound on this page
});
const notify = byId('alert-notify', HTMLInputElement);
notify.checked = 'Notification' in window && Notification.permission === 'granted';
notify.disabled = !('Notification' in window) || Notification.permission === 'denied';
notify.addEventListener('change', () => {
  if (notify.checked && Notification.permission !== 'granted')
    void Notification.requestPermission().then((answer) => {
      notify.checked = answer === 'granted';
      notify.disabled = answer === 'denied';
    });
});

// ---------------------------------------------------------------------------------------------
// The display mode

function applyDisplay(): void {
  const on = location.hash === '#display';
  byId('display', HTMLElement).hidden = !on;
  byId('main', HTMLElement).hidden = on;
  for (const part of document.querySelectorAll<HTMLElement>('.site, .skip')) part.hidden = on;
}
window.addEventListener('hashchange', applyDisplay);
byId('fullscreen', HTMLButtonElement).addEventListener('click', () => {
  void document.documentElement.requestFullscreen().catch(() => undefined);
});

onReachability((state) => {
  if (state === 'online') void refresh();
});
applyDisplay();
renderMine();
connect();
void refreshMine();
void fixNavigation();
