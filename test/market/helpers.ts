/** Test data factories for the market. */
import type { FastifyInstance } from 'fastify';
import type { LightMyRequestResponse } from 'fastify';
import {
  createMarketService,
  type MarketService,
} from '../../src/modules/market/market.service.js';
import type { Product } from '../../src/modules/market/market.schemas.js';

export const CARD = '4242424242424242';

export function marketService(app: FastifyInstance): MarketService {
  return createMarketService({
    db: app.db,
    prepareRead: app.database.prepareRead,
    bus: app.bus,
  });
}

/** The original `setup.py [reset] [amount]`. */
export async function setup(app: FastifyInstance, reset: boolean, amount?: number): Promise<void> {
  await marketService(app).setup({ reset, ...(amount === undefined ? {} : { amount }) });
}

export async function createProduct(
  app: FastifyInstance,
  values: { description?: string; price?: number; stock?: number } = {},
): Promise<Product> {
  const res = await app.inject({
    method: 'POST',
    url: '/product/',
    payload: {
      description: values.description ?? `item-${Math.random().toString(36).slice(2, 8)}`,
      price: values.price ?? 10,
    },
  });
  if (res.statusCode !== 200) throw new Error(`createProduct: ${res.statusCode} ${res.body}`);
  const product = res.json<{ data: Product }>().data;
  if (values.stock) await replenish(app, product.id, values.stock);
  return product;
}

/** `PUT /product/:id`: a new description and price. */
export function updateProduct(
  app: FastifyInstance,
  id: number,
  description: string,
  price: number,
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'PUT',
    url: `/product/${String(id)}`,
    payload: { description, price },
  });
}

export async function replenish(
  app: FastifyInstance,
  id: number,
  amount: number,
): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'PUT', url: `/market/replenish/${id}`, payload: { amount } });
}

export function buy(
  app: FastifyInstance,
  id: number | string,
  amount: unknown,
  options: { card?: unknown; key?: string; expectedPrice?: unknown } = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: `/market/buy/${id}`,
    headers: options.key ? { 'idempotency-key': options.key } : {},
    payload: {
      amount,
      credit_card: options.card ?? CARD,
      ...(options.expectedPrice === undefined ? {} : { expected_price: options.expectedPrice }),
    },
  });
}

export async function stockOf(app: FastifyInstance, id: number): Promise<number> {
  return (await app.inject({ url: `/market/query/${id}` })).json<{ data: { quantity: number } }>()
    .data.quantity;
}
