/**
 * The market's HTTP surface: `/market/query|buy|replenish/:id` and `/product/` CRUD, with the
 * original contract's envelopes and messages. Handlers validate, call the service, shape HTTP.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppError } from '../../core/errors.js';
import { modulePage } from '../../core/pages.js';
import {
  BuyBody,
  BuyResult,
  Envelope,
  IdParams,
  MarketError,
  Order,
  OrdersQuery,
  PriceChangedError,
  Product,
  ProductBody,
  ProductStock,
  ReplenishBody,
  ReplenishResult,
} from './market.schemas.js';
import type { MarketService } from './market.service.js';
import {
  checkBuy,
  checkIdempotencyKey,
  checkProduct,
  checkReplenish,
  NOT_JSON,
  parseId,
  showId,
} from './market.validation.js';
import { MarketErrors } from './market.errors.js';

export interface MarketRouteOptions {
  /** ISO 4217: what prices count, for the product list the web page reads. */
  currency?: string;
  /** The original's profile: a card sent as a JSON number is taken as its 16 digits. */
  numericCard?: boolean;
  service: MarketService;
}

const badRequest = MarketErrors.badRequest;

/** `{data, exe_id}`: every success of the original contract. */
const ok = <T>(request: FastifyRequest, data: T): { data: T; exe_id: string } => ({
  data,
  exe_id: request.id,
});

const errors = { 400: MarketError, 404: MarketError };

/** Sends text that is already JSON: Fastify sends a string with a JSON type as it is. */
function sendJsonText(reply: FastifyReply, text: string): void {
  void reply.type('application/json; charset=utf-8').send(text);
}

/** Runs `find` on the product id in the path, or throws `notFound` for a missing or malformed id. */
async function findOr404<T>(
  raw: string,
  find: (id: number) => Promise<T | undefined>,
  notFound: (raw: string) => AppError,
): Promise<T> {
  const id = parseId(raw);
  const found = id === null ? undefined : await find(id);
  if (found === undefined) throw notFound(raw);
  return found;
}

/**
 * Bodies are JSON whatever the Content-Type says (the original client does not always set it);
 * a body that is not JSON becomes `NOT_JSON`, which validation turns into the contract's 400.
 */
export function acceptAnyJson(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body: string, done) => {
    if (body.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(body));
    } catch {
      done(null, NOT_JSON);
    }
  });
}

/** `/market/query|buy|replenish/:id`, the product list with stock, and the web page. */
export async function marketRoutes(
  app: FastifyInstance,
  { service, numericCard = false, currency = 'EUR' }: MarketRouteOptions,
): Promise<void> {
  acceptAnyJson(app);
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();
  const notFound = (raw: string): AppError => MarketErrors.productNotFound(showId(raw));

  routes.get(
    '/query/:id',
    {
      schema: {
        tags: ['market'],
        summary: 'A product with its stock',
        params: IdParams,
        response: { 200: Envelope(ProductStock), ...errors },
      },
    },
    (request, reply) => {
      // A product the read cache holds is answered in this turn of the loop, without a promise,
      // with its JSON made once per cached row: the envelope is the only text built per request.
      // The request id needs no escaping (see genReqId); a string sent as JSON is sent as is.
      const id = parseId(request.params.id);
      const cached = id === null ? undefined : service.peekStockJson(id);
      if (cached !== undefined) {
        sendJsonText(reply, `{"data":${cached},"exe_id":"${request.id}"}`);
        return;
      }
      return findOr404(request.params.id, (i) => service.getStock(i), notFound).then((stock) =>
        ok(request, stock),
      );
    },
  );

  routes.post(
    '/buy/:id',
    {
      attachValidation: true,
      schema: {
        tags: ['market'],
        summary: 'Buy: never sells more than the stock',
        description:
          'Not enough stock is still a 200, with status `Failure (insufficent quantity)` and cost 0. ' +
          'With an `Idempotency-Key` header, a retry replays the first answer (`Idempotent-Replayed: true`) ' +
          'without buying twice; the same key with another body is a 422, and while the first is in progress a 409. ' +
          'With `expected_price`, the purchase is made at that unit price or not at all: a changed price is a 409 ' +
          'whose `price` is the price now, to confirm with.',
        params: IdParams,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 255 })) }),
        body: BuyBody,
        response: {
          200: Envelope(BuyResult),
          409: PriceChangedError,
          422: MarketError,
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const input = checkBuy(request.body, numericCard);
      if (!input.ok) throw badRequest(input.message);
      const key = checkIdempotencyKey(request.headers['idempotency-key']);
      if (!key.ok) throw badRequest(key.message);
      const id = parseId(request.params.id);
      if (id === null) throw notFound(request.params.id);
      const outcome = await service.buy({
        productId: id,
        amount: input.value.amount,
        creditCard: input.value.creditCard,
        requestId: request.id,
        ...(key.value === undefined ? {} : { idempotencyKey: key.value }),
        ...(input.value.expectedPrice === undefined
          ? {}
          : { expectedPrice: input.value.expectedPrice }),
      });
      switch (outcome.kind) {
        case 'not-found':
          throw notFound(request.params.id);
        case 'price-changed':
          throw MarketErrors.priceChanged(
            input.value.expectedPrice ?? outcome.price,
            outcome.price,
          );
        case 'key-mismatch':
          throw MarketErrors.keyReused();
        case 'key-in-progress':
          throw MarketErrors.keyInProgress();
        case 'replayed':
          void reply.header('idempotent-replayed', 'true');
          return ok(request, outcome.result);
        case 'done':
          return ok(request, outcome.result);
      }
    },
  );

  routes.put(
    '/replenish/:id',
    {
      preHandler: app.requireAdmin,
      attachValidation: true,
      schema: {
        tags: ['market'],
        summary: 'Add stock (admin)',
        security: [{ adminToken: [] }],
        params: IdParams,
        body: ReplenishBody,
        response: { 200: Envelope(ReplenishResult), 401: MarketError, 403: MarketError, ...errors },
      },
    },
    async (request) => {
      const amount = checkReplenish(request.body);
      if (!amount.ok) throw badRequest(amount.message);
      const id = parseId(request.params.id);
      if (id === null) throw notFound(request.params.id);
      const outcome = await service.replenish(id, amount.value);
      if (outcome.kind === 'not-found') throw notFound(request.params.id);
      if (outcome.kind === 'too-much') throw badRequest('stock cannot exceed 1000000000');
      return ok(request, outcome.result);
    },
  );

  routes.get(
    '/products',
    {
      schema: {
        tags: ['market'],
        summary:
          'Every product with its stock, ordered by id, and the currency (the web page reads this)',
        response: {
          200: Type.Object({
            data: Type.Array(ProductStock),
            currency: Type.String({ description: 'ISO 4217 code of the prices' }),
            exe_id: Type.String(),
          }),
        },
      },
    },
    async (request) => ({ ...ok(request, await service.listStock()), currency }),
  );

  routes.get(
    '/orders',
    {
      preHandler: app.requireAdmin,
      schema: {
        tags: ['market'],
        summary: 'The orders ledger, newest first (admin)',
        description:
          'Every purchase attempt that passed validation, with only the last 4 digits of its card. ' +
          'Page back with `before` = the smallest id seen.',
        security: [{ adminToken: [] }],
        querystring: OrdersQuery,
        response: {
          200: Envelope(Type.Array(Order)),
          401: MarketError,
          403: MarketError,
          400: MarketError,
        },
      },
    },
    async (request) =>
      ok(
        request,
        await service.listOrders({
          limit: request.query.limit,
          ...(request.query.before === undefined ? {} : { before: request.query.before }),
        }),
      ),
  );

  const page = modulePage('market');
  if (page.built)
    routes.get('/', { schema: { hide: true } }, (_request, reply) => page.send(reply));
}

/** `/product/` CRUD; creating, changing and deleting products is for administrators. */
export async function productRoutes(
  app: FastifyInstance,
  { service }: MarketRouteOptions,
): Promise<void> {
  acceptAnyJson(app);
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();
  const notFound = (raw: string): AppError => MarketErrors.productNotFoundCrud(showId(raw));
  const admin = { preHandler: app.requireAdmin };
  const adminErrors = { 401: MarketError, 403: MarketError };
  const security = [{ adminToken: [] }];

  routes.get(
    '/',
    {
      schema: {
        tags: ['product'],
        summary: 'Every product, ordered by id',
        response: { 200: Envelope(Type.Array(Product)) },
      },
    },
    async (request) => ok(request, await service.listProducts()),
  );

  routes.get(
    '/:id',
    {
      schema: {
        tags: ['product'],
        summary: 'One product',
        params: IdParams,
        response: { 200: Envelope(Product), ...errors },
      },
    },
    async (request) =>
      ok(request, await findOr404(request.params.id, (id) => service.getProduct(id), notFound)),
  );

  routes.post(
    '/',
    {
      ...admin,
      attachValidation: true,
      schema: {
        tags: ['product'],
        summary: 'Release a product (stock starts at 0); announced on products.new',
        security,
        body: ProductBody,
        response: { 200: Envelope(Product), ...adminErrors, ...errors },
      },
    },
    async (request) => {
      const input = checkProduct(request.body);
      if (!input.ok) throw badRequest(input.message);
      return ok(request, await service.createProduct(input.value));
    },
  );

  routes.put(
    '/:id',
    {
      ...admin,
      attachValidation: true,
      schema: {
        tags: ['product'],
        summary: 'Change description and price; a price change is announced on product.<id>',
        security,
        params: IdParams,
        body: ProductBody,
        response: { 200: Envelope(Product), ...adminErrors, ...errors },
      },
    },
    async (request) => {
      const input = checkProduct(request.body);
      if (!input.ok) throw badRequest(input.message);
      const update = (id: number) => service.updateProduct(id, input.value);
      return ok(request, await findOr404(request.params.id, update, notFound));
    },
  );

  routes.delete(
    '/:id',
    {
      ...admin,
      schema: {
        tags: ['product'],
        summary: 'Delete a product (its orders stay in the ledger)',
        security,
        params: IdParams,
        response: { 200: Envelope(Product), ...adminErrors, ...errors },
      },
    },
    async (request) =>
      ok(request, await findOr404(request.params.id, (id) => service.deleteProduct(id), notFound)),
  );
}
