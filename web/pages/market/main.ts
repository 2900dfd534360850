/**
 * The market page: products with price and stock, a buy form, a wish-list toggle per product
 * and a "new products" switch; wish-listed price changes and new releases arrive as toasts over
 * the WebSocket gateway, which reconnects by itself.
 */
import type { MarketEvent, ProductStock } from '../../../src/modules/market/market.schemas.js';
import { gatewayUrl, TopicSocket } from '../../src/realtime.js';

const base = location.pathname.replace(/\/+$/, '');
const WISH_KEY = 'agora.market.wishlist';
const NEW_KEY = 'agora.market.notify-new';

const wishlist = new Set<number>(
  (JSON.parse(localStorage.getItem(WISH_KEY) ?? '[]') as number[]).filter(Number.isInteger),
);
const products = new Map<number, ProductStock>();

function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el;
}
const notifyNew = $('notify-new') as HTMLInputElement;
notifyNew.checked = localStorage.getItem(NEW_KEY) === 'true';

function toast(text: string): void {
  const el = document.createElement('div');
  el.className = 'toast';
  el.textContent = text;
  $('toasts').append(el);
  setTimeout(() => {
    el.remove();
  }, 8000);
}

function topics(): string[] {
  const list = [...wishlist].map((id) => `product.${id}`);
  if (notifyNew.checked) list.push('products.new');
  return list;
}

const socket = new TopicSocket(gatewayUrl(), {
  onEvent(event) {
    const data = event.data as MarketEvent;
    switch (data.type) {
      case 'price-changed': {
        const p = products.get(data.id);
        if (p) p.price = data.new_price;
        toast(`Product ${data.description} price changed: ${data.old_price} → ${data.new_price}`);
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
        toast(`Product ${data.description} is no longer sold`);
        break;
      case 'product-released':
        products.set(data.id, {
          id: data.id,
          description: data.description,
          price: data.price,
          quantity: 0,
        });
        toast(`A new product has been released: ${data.description} (${data.price})`);
        break;
    }
    render();
  },
  onSubscribed(confirmed) {
    // What the server confirmed, for people (hover) and for tests alike.
    $('status').dataset.topics = confirmed.sort().join(' ');
  },
  onGap() {
    void load();
  },
  onStatus(status) {
    const el = $('status');
    el.dataset.status = status;
    el.textContent =
      status === 'live' ? 'live' : status === 'offline' ? 'reconnecting…' : 'connecting…';
  },
});

function saveWishlist(): void {
  localStorage.setItem(WISH_KEY, JSON.stringify([...wishlist]));
  socket.setTopics(topics());
}

async function buy(id: number, amount: number): Promise<void> {
  const card = ($('card') as HTMLInputElement).value.trim();
  const res = await fetch(`${base}/buy/${id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
    body: JSON.stringify({ amount, credit_card: card }),
  });
  const body = (await res.json()) as { data?: { cost: number; status: string }; error?: string };
  $('message').textContent = body.data
    ? body.data.status === 'Success'
      ? `Bought ${amount} × ${products.get(id)?.description ?? id} for ${body.data.cost}.`
      : 'Not enough stock.'
    : `Refused: ${body.error ?? res.statusText}`;
  await load();
}

function render(): void {
  const tbody = document.querySelector('#products tbody');
  if (!tbody) return;
  tbody.replaceChildren(
    ...[...products.values()]
      .sort((a, b) => a.id - b.id)
      .map((p) => {
        const row = document.createElement('tr');
        row.dataset.id = String(p.id);
        const wish = document.createElement('button');
        wish.className = 'wish';
        wish.type = 'button';
        wish.textContent = '★';
        wish.title = 'Wish list: notify me when its price changes';
        wish.setAttribute('aria-pressed', String(wishlist.has(p.id)));
        wish.addEventListener('click', () => {
          if (wishlist.has(p.id)) wishlist.delete(p.id);
          else wishlist.add(p.id);
          saveWishlist();
          render();
        });
        const cell = (text: string, cls = ''): HTMLTableCellElement => {
          const td = document.createElement('td');
          td.textContent = text;
          td.className = cls;
          return td;
        };
        const form = document.createElement('form');
        form.className = 'buy';
        const amount = document.createElement('input');
        amount.type = 'number';
        amount.min = '1';
        amount.value = '1';
        amount.setAttribute('aria-label', `amount of ${p.description}`);
        const submit = document.createElement('button');
        submit.textContent = 'Buy';
        form.append(amount, submit);
        form.addEventListener('submit', (e) => {
          e.preventDefault();
          void buy(p.id, Number(amount.value));
        });
        const wishCell = document.createElement('td');
        wishCell.append(wish);
        const buyCell = document.createElement('td');
        buyCell.append(form);
        row.append(
          wishCell,
          cell(p.description, 'description'),
          cell(String(p.price), 'num price'),
          cell(String(p.quantity), 'num stock'),
          buyCell,
        );
        return row;
      }),
  );
}

async function load(): Promise<void> {
  const res = await fetch(`${base}/products`);
  const body = (await res.json()) as { data: ProductStock[] };
  products.clear();
  for (const p of body.data) products.set(p.id, p);
  render();
}

notifyNew.addEventListener('change', () => {
  localStorage.setItem(NEW_KEY, String(notifyNew.checked));
  socket.setTopics(topics());
});

socket.setTopics(topics());
void load();
