import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, listen, type TestApp } from '../helper.js';
import { openSse, openWs } from '../realtime-clients.js';
import { buy, createProduct, updateProduct } from './helpers.js';

let t: TestApp;
let base: string;
beforeAll(async () => {
  t = await buildTestApp();
  base = await listen(t.app);
});
afterAll(async () => {
  await t.close();
});

describe('market notifications', () => {
  it('tells WebSocket subscribers of a product about price, description, stock and deletion', async () => {
    const p = await createProduct(t.app, { description: 'tea', price: 10, stock: 5 });
    const ws = openWs(`${base.replace('http', 'ws')}/ws?topics=product.${p.id}`);
    await ws.control.until(1);

    await updateProduct(t.app, p.id, 'tea', 12);
    const [priced] = await ws.until(1);
    expect(priced).toMatchObject({ topic: `product.${p.id}`, offset: 2, type: 'price-changed' });
    expect(priced!.data).toEqual({
      type: 'price-changed',
      id: p.id,
      description: 'tea',
      old_price: 10,
      new_price: 12,
      at: expect.any(String),
    });
    // Published after commit: whoever reacts to the event reads the new price.
    expect(
      (await t.app.inject({ url: `/product/${p.id}` })).json<{ data: { price: number } }>().data
        .price,
    ).toBe(12);

    await updateProduct(t.app, p.id, 'green tea', 12);
    await buy(t.app, p.id, 2);
    await t.app.inject({ method: 'DELETE', url: `/product/${p.id}` });
    const events = await ws.until(4);
    expect(events.slice(1).map((e) => e.data)).toEqual([
      {
        type: 'description-changed',
        id: p.id,
        old_description: 'tea',
        description: 'green tea',
        at: expect.any(String),
      },
      { type: 'stock-changed', id: p.id, quantity: 3, at: expect.any(String) },
      { type: 'product-deleted', id: p.id, description: 'green tea', at: expect.any(String) },
    ]);
    ws.socket.close();
  });

  it('announces released products on products.new, over SSE too', async () => {
    const sse = openSse(`${base}/events?topics=products.new`);
    await sse.response;
    const p = await createProduct(t.app, { description: 'mango', price: 30 });
    const [frame] = await sse.until(1);
    expect(frame!.event).toBe('product-released');
    expect(JSON.parse(frame!.data)).toMatchObject({
      topic: 'products.new',
      type: 'product-released',
      data: { type: 'product-released', id: p.id, description: 'mango', price: 30 },
    });
    sse.close();
  });

  it('repeats every product change on the catalogue topic `products`, in order', async () => {
    const ws = openWs(`${base.replace('http', 'ws')}/ws?topics=products`);
    await ws.control.until(1);
    const p = await createProduct(t.app, { description: 'kiwi', price: 4, stock: 3 });
    await buy(t.app, p.id, 1);
    await updateProduct(t.app, p.id, 'kiwi', 5);
    await t.app.inject({ method: 'DELETE', url: `/product/${p.id}` });
    const events = await ws.until(5);
    expect(events.map((e) => [e.topic, e.type])).toEqual([
      ['products', 'product-released'],
      ['products', 'stock-changed'], // the replenish of createProduct
      ['products', 'stock-changed'],
      ['products', 'price-changed'],
      ['products', 'product-deleted'],
    ]);
    expect(events.map((e) => (e.data as { id: number }).id)).toEqual(Array(5).fill(p.id));
    expect(events[2]!.data).toMatchObject({ quantity: 2 });
    ws.socket.close();
  });

  it('publishes nothing for changes that did not happen', async () => {
    const p = await createProduct(t.app, { price: 3, stock: 1 });
    const ws = openWs(`${base.replace('http', 'ws')}/ws?topics=product.${p.id}`);
    await ws.control.until(1);
    await buy(t.app, p.id, 5); // not enough stock
    await t.app.inject({
      method: 'PUT',
      url: `/product/${p.id}`,
      payload: { description: 'x', price: -1 },
    }); // invalid
    await t.app.inject({
      method: 'PUT',
      url: `/product/${p.id}`,
      payload: {
        description: (await t.app.inject({ url: `/product/${p.id}` })).json<{
          data: { description: string };
        }>().data.description,
        price: 3,
      },
    }); // no change
    await t.app.bus.publish(`product.${p.id}`, 'marker', null);
    const [first] = await ws.until(1);
    expect(first!.type).toBe('marker');
    ws.socket.close();
  });
});
