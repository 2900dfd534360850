/**
 * The market page. Every product's price and stock are live for every viewer (one subscription
 * to the catalogue topic `products`); a purchase is made at the price the buyer saw, and a price
 * changed meanwhile asks them to confirm. Starred products' price changes and new releases (when
 * asked for) also arrive as toasts. With the admin token: create, edit, restock and delete
 * products, and the orders ledger, refreshed as purchases happen.
 */
import type { MarketEvent, ProductStock } from '../../../src/modules/market/market.schemas.js';
import { gatewayUrl, TopicSocket } from '../../src/realtime.js';
import {
  api,
  ApiError,
  busy,
  byId,
  confirmDialog,
  describe,
  el,
  fixNavigation,
  format,
  json,
  onReachability,
  reportUnreachable,
  toast,
} from '../../src/ui.js';

interface Order {
  id: number;
  product_id: number;
  amount: number;
  cost: number;
  status: string;
  card_last4: string;
  created_at: string;
}

const base = location.pathname.replace(/\/+$/, '');
const WISH_KEY = 'agora.market.wishlist';
const NEW_KEY = 'agora.market.notify-new';
const ADMIN_KEY = 'agora.market.admin-token';
/** The product CRUD routes' default mount; `/api/info` does not list it. */
const PRODUCTS = '/product';

const wishlist = new Set<number>(
  (JSON.parse(localStorage.getItem(WISH_KEY) ?? '[]') as number[]).filter(Number.isInteger),
);
const products = new Map<number, ProductStock>();
let currency = 'EUR';
let admin: string | null = null;

const notifyNew = byId('notify-new', HTMLInputElement);
notifyNew.checked = localStorage.getItem(NEW_KEY) === 'true';
const message = byId('message', HTMLElement);
const cardInput = byId('card', HTMLInputElement);
const money = (n: number): string => format.money(n, currency);

function say(text: string, kind: 'ok' | 'error' | '' = ''): void {
  message.textContent = text;
  message.className = `result ${kind}`;
}

// ---------------------------------------------------------------------------------------------
// Live updates

function apply(data: MarketEvent): void {
  switch (data.type) {
    case 'price-changed': {
      const p = products.get(data.id);
      if (p) p.price = data.new_price;
      if (wishlist.has(data.id))
        toast(
          `${data.description}: the price changed from ${money(data.old_price)} to ${money(data.new_price)}`,
        );
      break;
    }
    case 'description-changed': {
      const p = products.get(data.id);
      if (p) p.description = data.description;
      break;
    }
    case 'stock-changed': {
      const p = products.get(data.id);
      if (p) p.quantity = data.quantity;
      break;
    }
    case 'product-deleted':
      products.delete(data.id);
      if (wishlist.has(data.id)) toast(`${data.description} is no longer sold.`);
      break;
    case 'product-released':
      products.set(data.id, {
        id: data.id,
        description: data.description,
        price: data.price,
        quantity: 0,
      });
      if (notifyNew.checked)
        toast(`A new product has been released: ${data.description} (${money(data.price)})`);
      break;
  }
  render(data.id);
  if (admin !== null && data.type === 'stock-changed') void loadOrders().catch(() => undefined);
}

const status = byId('status', HTMLElement);
const socket = new TopicSocket(gatewayUrl(), {
  onEvent(event) {
    apply(event.data as MarketEvent);
  },
  onSubscribed(confirmed) {
    // What the server confirmed, for tests and curious people alike.
    status.dataset.topics = confirmed.sort().join(' ');
  },
  onGap() {
    void load();
  },
  onStatus(state) {
    status.dataset.status = state;
    status.textContent =
      state === 'live' ? 'live' : state === 'offline' ? 'reconnecting…' : 'connecting…';
    if (state === 'offline') reportUnreachable();
  },
});
socket.setTopics(['products']);
onReachability((state) => {
  if (state === 'online') void load();
});

// ---------------------------------------------------------------------------------------------
// Buying

function checkCard(): string | null {
  const digits = cardInput.value.replace(/[\s-]/g, '');
  const error = byId('card-error', HTMLElement);
  if (/^[0-9]{16}$/.test(digits)) {
    cardInput.removeAttribute('aria-invalid');
    error.textContent = '';
    return digits;
  }
  cardInput.setAttribute('aria-invalid', 'true');
  error.textContent = 'Enter the 16 digits of the card (spaces allowed).';
  cardInput.focus();
  return null;
}

async function buy(id: number, amount: number, price: number): Promise<void> {
  const card = checkCard();
  if (card === null) return;
  const name = products.get(id)?.description ?? `product ${id}`;
  try {
    const body = await api<{ data: { cost: number; status: string } }>(
      `${base}/buy/${id}`,
      json(
        'POST',
        { amount, credit_card: card, expected_price: price },
        { 'idempotency-key': crypto.randomUUID() },
      ),
    );
    if (body.data.status === 'Success') {
      say(`Bought ${format.number(amount)} × ${name} for ${money(body.data.cost)}.`, 'ok');
    } else {
      const left = products.get(id)?.quantity;
      say(
        `Not enough ${name} in stock${left === undefined ? '' : `: ${format.number(left)} left`}. Nothing was bought.`,
        'error',
      );
    }
  } catch (err) {
    if (err instanceof ApiError && err.status === 409 && typeof priceIn(err.body) === 'number') {
      const now = priceIn(err.body) ?? price;
      const p = products.get(id);
      if (p) p.price = now;
      render(id);
      const yes = await confirmDialog({
        title: `The price of ${name} has changed`,
        body: `It is ${money(now)} now, not ${money(price)}. Buy ${format.number(amount)} for ${money(now * amount)}?`,
        confirm: `Buy at ${money(now)}`,
        cancel: 'Do not buy',
      });
      if (yes) await buy(id, amount, now);
      else say(`Nothing was bought: ${name} is ${money(now)} now.`);
      return;
    }
    if (err instanceof ApiError && err.status === 404) {
      products.delete(id);
      render(id);
    }
    say(`Not bought: ${describe(err)}`, 'error');
  }
}

function priceIn(body: unknown): number | undefined {
  if (typeof body !== 'object' || body === null || !('price' in body)) return undefined;
  return typeof body.price === 'number' ? body.price : undefined;
}

// ---------------------------------------------------------------------------------------------
// Rendering

function productRow(p: ProductStock): HTMLTableRowElement {
  const soldOut = p.quantity === 0;
  const wish = el(
    'button',
    {
      type: 'button',
      className: 'wish',
      title: 'Tell me when its price changes',
      attrs: {
        'aria-pressed': String(wishlist.has(p.id)),
        'aria-label': `Star ${p.description}`,
      },
    },
    '★',
  );
  wish.addEventListener('click', () => {
    if (wishlist.has(p.id)) wishlist.delete(p.id);
    else wishlist.add(p.id);
    localStorage.setItem(WISH_KEY, JSON.stringify([...wishlist]));
    wish.setAttribute('aria-pressed', String(wishlist.has(p.id)));
  });
  const amount = el('input', {
    type: 'number',
    min: '1',
    max: String(Math.max(1, p.quantity)),
    value: '1',
    required: true,
    disabled: soldOut,
    attrs: { 'aria-label': `How many ${p.description}` },
  });
  const submit = el(
    'button',
    {
      type: 'submit',
      className: 'primary',
      disabled: soldOut,
      attrs: { 'aria-label': soldOut ? `${p.description} is sold out` : `Buy ${p.description}` },
    },
    soldOut ? 'Sold out' : 'Buy',
  );
  const form = el('form', { className: 'buy' }, amount, submit);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const n = Number(amount.value);
    if (!Number.isInteger(n) || n < 1) {
      say('Choose how many to buy: a whole number, at least 1.', 'error');
      amount.focus();
      return;
    }
    void busy(submit, () => buy(p.id, n, p.price));
  });
  const cells = [
    el('td', { className: 'wish-cell' }, wish),
    el('td', { className: 'description' }, p.description),
    el('td', { className: 'num price', dataset: { value: String(p.price) } }, money(p.price)),
    el(
      'td',
      { className: 'num stock', dataset: { value: String(p.quantity) } },
      soldOut ? 'Sold out' : format.number(p.quantity),
    ),
    el('td', { className: 'buy-cell' }, form),
  ];
  if (admin !== null) {
    const edit = el(
      'button',
      { type: 'button', attrs: { 'aria-label': `Edit ${p.description}` } },
      'Edit',
    );
    edit.addEventListener('click', () => {
      editProduct(p);
    });
    cells[4]?.append(edit);
  }
  const row = el('tr', { dataset: { id: String(p.id) } }, ...cells);
  if (soldOut) row.dataset.soldOut = '';
  return row;
}

/** Re-renders the list; `changed` (a product id) flashes its row. Focus survives the render. */
function render(changed?: number): void {
  const tbody = document.querySelector('#products tbody');
  if (!tbody) return;
  const focused = document.activeElement;
  const focusRow = focused?.closest('tr')?.dataset.id;
  const focusClass = focused instanceof HTMLElement ? focused.className : '';
  const focusTag = focused?.tagName;
  const rows = [...products.values()].sort((a, b) => a.id - b.id).map(productRow);
  tbody.replaceChildren(...rows);
  byId('empty', HTMLElement).hidden = products.size > 0;
  if (changed !== undefined)
    tbody.querySelector(`tr[data-id="${String(changed)}"]`)?.classList.add('flash');
  if (focusRow !== undefined && focusTag !== undefined) {
    const row = tbody.querySelector(`tr[data-id="${focusRow}"]`);
    const again = [...(row?.querySelectorAll<HTMLElement>(focusTag) ?? [])].find(
      (n) => n.className === focusClass,
    );
    again?.focus();
  }
}

async function load(): Promise<void> {
  try {
    const body = await api<{ data: ProductStock[]; currency: string }>(`${base}/products`);
    currency = body.currency;
    products.clear();
    for (const p of body.data) products.set(p.id, p);
    render();
  } catch (err) {
    say(`Could not load the products: ${describe(err)}`, 'error');
  }
}

// ---------------------------------------------------------------------------------------------
// Administration

const adminHeaders = (): Record<string, string> =>
  admin ? { authorization: `Bearer ${admin}` } : {};

let oldest: number | undefined;

async function loadOrders(more = false): Promise<void> {
  const query = more && oldest !== undefined ? `?limit=50&before=${String(oldest)}` : '?limit=50';
  const body = await api<{ data: Order[] }>(`${base}/orders${query}`, {
    headers: adminHeaders(),
  });
  const tbody = document.querySelector('#orders tbody');
  if (!tbody) return;
  const rows = body.data.map((o) =>
    el(
      'tr',
      { dataset: { id: String(o.id) } },
      el('td', { className: 'num' }, String(o.id)),
      el('td', {}, format.time(o.created_at)),
      el('td', {}, products.get(o.product_id)?.description ?? `#${String(o.product_id)}`),
      el('td', { className: 'num' }, format.number(o.amount)),
      el('td', { className: 'num' }, money(o.cost)),
      el('td', { className: o.status === 'Success' ? 'ok' : 'error' }, o.status),
      el('td', {}, `•••• ${o.card_last4}`),
    ),
  );
  if (more) tbody.append(...rows);
  else tbody.replaceChildren(...rows);
  const last = body.data.at(-1);
  if (last) oldest = last.id;
  byId('orders-more', HTMLButtonElement).hidden = body.data.length < 50;
}

function editProduct(p: ProductStock): void {
  const description = el('input', { value: p.description, required: true, maxLength: 200 });
  const price = el('input', { type: 'number', min: '0', value: String(p.price), required: true });
  const restock = el('input', { type: 'number', min: '1', value: '10' });
  const error = el('p', { className: 'error', attrs: { role: 'alert' } });
  const save = el('button', { type: 'submit', className: 'primary' }, 'Save');
  const add = el('button', { type: 'button' }, 'Add stock');
  const remove = el('button', { type: 'button', className: 'danger' }, 'Delete');
  const close = el('button', { type: 'button' }, 'Close');
  const title = el('h2', { id: 'edit-title' }, `Edit ${p.description}`);
  const form = el(
    'form',
    {},
    title,
    el(
      'div',
      { className: 'row' },
      el('label', {}, 'Description', description),
      el('label', {}, 'Price', price),
      save,
    ),
    el('div', { className: 'row' }, el('label', {}, 'Add to stock', restock), add),
    error,
    el('div', { className: 'actions' }, remove, close),
  );
  const dialog = el('dialog', { attrs: { 'aria-labelledby': 'edit-title' } }, form);
  document.body.append(dialog);
  const done = (text: string): void => {
    dialog.close();
    say(text, 'ok');
  };
  const attempt = async (work: () => Promise<string>): Promise<void> => {
    try {
      done(await work());
    } catch (err) {
      error.textContent = describe(err);
    }
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void busy(save, () =>
      attempt(async () => {
        await api(
          `${PRODUCTS}/${String(p.id)}`,
          json(
            'PUT',
            { description: description.value, price: Number(price.value) },
            adminHeaders(),
          ),
        );
        return `${description.value} saved.`;
      }),
    );
  });
  add.addEventListener('click', () => {
    void busy(add, () =>
      attempt(async () => {
        await api(
          `${base}/replenish/${String(p.id)}`,
          json('PUT', { amount: Number(restock.value) }, adminHeaders()),
        );
        return `${format.number(Number(restock.value))} × ${p.description} added to the stock.`;
      }),
    );
  });
  remove.addEventListener('click', () => {
    void (async () => {
      const yes = await confirmDialog({
        title: `Delete ${p.description}?`,
        body: 'It disappears from every viewer at once. Its orders stay in the ledger.',
        confirm: 'Delete',
        danger: true,
      });
      if (yes)
        await attempt(async () => {
          await api(`${PRODUCTS}/${String(p.id)}`, { method: 'DELETE', headers: adminHeaders() });
          return `${p.description} deleted.`;
        });
    })();
  });
  close.addEventListener('click', () => {
    dialog.close();
  });
  dialog.addEventListener('close', () => {
    dialog.remove();
  });
  dialog.showModal();
}

let ledgerTimer: number | undefined;

async function unlock(token: string): Promise<void> {
  admin = token;
  try {
    await loadOrders();
  } catch (err) {
    admin = null;
    sessionStorage.removeItem(ADMIN_KEY);
    say(`Administration refused: ${describe(err)}`, 'error');
    return;
  }
  sessionStorage.setItem(ADMIN_KEY, token);
  byId('admin-tools', HTMLElement).hidden = false;
  render();
  // A refused purchase (not enough stock) changes no stock, so no event tells of its order:
  // while the ledger is in view, it is also read every 5 s.
  ledgerTimer ??= window.setInterval(() => {
    if (document.visibilityState === 'visible' && byId('admin', HTMLDetailsElement).open)
      void loadOrders().catch(() => undefined);
  }, 5000);
}

byId('admin-form', HTMLFormElement).addEventListener('submit', (e) => {
  e.preventDefault();
  const button = (e.currentTarget as HTMLFormElement).querySelector('button');
  if (button) void busy(button, () => unlock(byId('admin-token', HTMLInputElement).value.trim()));
});
byId('create-form', HTMLFormElement).addEventListener('submit', (e) => {
  e.preventDefault();
  const form = e.currentTarget as HTMLFormElement;
  const button = form.querySelector('button');
  if (!button) return;
  void busy(button, async () => {
    const description = byId('new-description', HTMLInputElement);
    const price = byId('new-price', HTMLInputElement);
    try {
      await api(
        `${PRODUCTS}/`,
        json(
          'POST',
          { description: description.value, price: Number(price.value) },
          adminHeaders(),
        ),
      );
      say(`${description.value} created.`, 'ok');
      form.reset();
    } catch (err) {
      say(`Not created: ${describe(err)}`, 'error');
    }
  });
});
byId('orders-refresh', HTMLButtonElement).addEventListener('click', (e) => {
  void busy(e.currentTarget as HTMLButtonElement, () => loadOrders());
});
byId('orders-more', HTMLButtonElement).addEventListener('click', (e) => {
  void busy(e.currentTarget as HTMLButtonElement, () => loadOrders(true));
});

// ---------------------------------------------------------------------------------------------

byId('card-form', HTMLFormElement).addEventListener('submit', (e) => {
  e.preventDefault(); // Enter in the card field checks it, and never reloads the page
  if (checkCard() !== null) say('The card number looks right.');
});
notifyNew.addEventListener('change', () => {
  localStorage.setItem(NEW_KEY, String(notifyNew.checked));
});

void fixNavigation();
void load().then(() => {
  const saved = sessionStorage.getItem(ADMIN_KEY);
  if (saved !== null) {
    byId('admin', HTMLDetailsElement).open = true;
    void unlock(saved);
  }
});
