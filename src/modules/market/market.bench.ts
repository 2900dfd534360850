/** Market scenarios: query, product list, purchases, and a price change fanned out to subscribers. */
import { wsFanOut } from '../../../bench/scenarios/core.js';
import { sendJson, type Scenario } from '../../../bench/scenarios/types.js';

const SUBSCRIBERS = Number(process.env.BENCH_MARKET_SUBSCRIBERS ?? 5000);
let price = 10;

async function stockUp(baseUrl: string): Promise<undefined> {
  // Enough stock that no purchase in the run fails for want of it.
  await sendJson(baseUrl, 'PUT', '/market/replenish/1', { amount: 1_000_000 });
  return undefined;
}

async function changePrice(baseUrl: string): Promise<void> {
  price += 1;
  await sendJson(baseUrl, 'PUT', '/product/3', { description: 'orange', price });
}

export const scenarios: Scenario[] = [
  {
    kind: 'http',
    name: 'market: GET /market/query/1',
    target: 'agora',
    path: '/market/query/1',
    light: true,
  },
  { kind: 'http', name: 'market: GET /product/ (list)', target: 'agora', path: '/product/' },
  {
    kind: 'http',
    name: 'market: POST /market/buy/1 (successful purchases)',
    target: 'agora',
    method: 'POST',
    path: '/market/buy/1',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ amount: 1, credit_card: '4242424242424242' }),
    setup: stockUp,
  },
  {
    kind: 'custom',
    name: `market: price change to ${SUBSCRIBERS} WebSocket subscribers`,
    run: (base) =>
      wsFanOut(base, { subscribers: SUBSCRIBERS, topic: 'product.3', trigger: changePrice }),
  },
];
