/**
 * The market's wire shapes, declared once. The original client's contract: every success is
 * `{data, exe_id}`, every error `{error, exe_id}`.
 */
import { Type, type Static, type TSchema } from 'typebox';

export const MAX_PRICE = 100_000_000;
export const MAX_AMOUNT = 1_000_000;
export const MAX_STOCK = 1_000_000_000;
export const MAX_DESCRIPTION = 200;

export const Product = Type.Object({
  id: Type.Integer(),
  description: Type.String(),
  price: Type.Integer(),
});
export type Product = Static<typeof Product>;

export const ProductStock = Type.Object({
  id: Type.Integer(),
  description: Type.String(),
  price: Type.Integer(),
  quantity: Type.Integer(),
});
export type ProductStock = Static<typeof ProductStock>;

/** A row of the orders ledger (admin). */
export const Order = Type.Object({
  id: Type.Integer(),
  product_id: Type.Integer(),
  amount: Type.Integer(),
  unit_price: Type.Integer(),
  cost: Type.Integer(),
  status: Type.Union([Type.Literal('Success'), Type.Literal('Failure')]),
  card_last4: Type.String({ description: 'the only part of the card ever stored' }),
  request_id: Type.String(),
  created_at: Type.String(),
});

export const OrdersQuery = Type.Object({
  before: Type.Optional(Type.Integer({ minimum: 1, description: 'orders with smaller ids' })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
});

export const BUY_SUCCESS = 'Success';
/** Misspelt on purpose: the original clients compare this exact string. */
export const BUY_FAILURE = 'Failure (insufficent quantity)';

export const BuyResult = Type.Object({
  cost: Type.Integer(),
  status: Type.Union([Type.Literal(BUY_SUCCESS), Type.Literal(BUY_FAILURE)]),
});
export type BuyResult = Static<typeof BuyResult>;

export const ReplenishResult = Type.Object({
  quantity: Type.Integer(),
  status: Type.Literal('Success'),
});
export type ReplenishResult = Static<typeof ReplenishResult>;

// Request bodies, for the documentation. The routes validate them by hand, because the original
// clients expect particular messages in a particular order (see market.validation.ts).
export const BuyBody = Type.Object({
  amount: Type.Integer({ minimum: 1, maximum: MAX_AMOUNT }),
  credit_card: Type.String({
    pattern: '^[0-9]{16}$',
    description: '16 ASCII digits; only the last 4 are stored',
  }),
  expected_price: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: MAX_PRICE,
      description: 'the unit price the buyer saw: bought at it, or a 409 if the price changed',
    }),
  ),
});
export const ReplenishBody = Type.Object({
  amount: Type.Integer({ minimum: 1, maximum: MAX_AMOUNT }),
});
export const ProductBody = Type.Object({
  description: Type.String({ minLength: 1, maxLength: MAX_DESCRIPTION }),
  price: Type.Integer({ minimum: 0, maximum: MAX_PRICE }),
});
export type ProductInput = Static<typeof ProductBody>;

export const IdParams = Type.Object({
  id: Type.String({ description: 'product id (a positive integer)' }),
});

export const MarketError = Type.Object({ error: Type.String(), exe_id: Type.String() });
/** A 409 of buy: another request's key in progress, or (with `price`) a changed price. */
export const PriceChangedError = Type.Object({
  error: Type.String(),
  exe_id: Type.String(),
  price: Type.Optional(Type.Integer({ description: 'the unit price now' })),
});

export function Envelope<T extends TSchema>(data: T) {
  return Type.Object({ data, exe_id: Type.String() });
}

/** Price-change and release notifications, as published on `product.<id>` and `products.new`. */
export interface PriceChanged {
  type: 'price-changed';
  id: number;
  description: string;
  old_price: number;
  new_price: number;
  at: string;
}
export interface DescriptionChanged {
  type: 'description-changed';
  id: number;
  old_description: string;
  description: string;
  at: string;
}
export interface StockChanged {
  type: 'stock-changed';
  id: number;
  quantity: number;
  at: string;
}
export interface ProductDeleted {
  type: 'product-deleted';
  id: number;
  description: string;
  at: string;
}
export interface ProductReleased {
  type: 'product-released';
  id: number;
  description: string;
  price: number;
  at: string;
}
export type MarketEvent =
  PriceChanged | DescriptionChanged | StockChanged | ProductDeleted | ProductReleased;

export const productTopic = (id: number): string => `product.${id}`;
export const NEW_PRODUCTS_TOPIC = 'products.new';
/** Every change of every product (each event is also on its own topic): for full listings. */
export const CATALOGUE_TOPIC = 'products';
