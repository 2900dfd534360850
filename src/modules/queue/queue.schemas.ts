/**
 * The queue's wire shapes, the single source of each: TypeBox schemas for the routes, and their
 * static types for the service and the web page.
 */
import { Type, type Static } from 'typebox';

export const Board = Type.Object({
  head: Type.Union([Type.String(), Type.Null()]),
  deadline: Type.Union([Type.String(), Type.Null()], {
    description: "when the head's turn ends (ISO), or null",
  }),
  serving: Type.Array(Type.String()),
  waiting: Type.Array(Type.String(), { description: 'the codes after the head, the first 64' }),
  length: Type.Integer({ description: 'tokens in the line, head included' }),
});
/** The line as every browser sees it. */
export type Board = Static<typeof Board>;

export const TokenParams = Type.Object({ token: Type.String({ maxLength: 8 }) });

export const IssuedToken = Type.Object({
  token: Type.String(),
  secret: Type.String({ description: 'needed to claim or leave; returned only now' }),
  position: Type.Integer(),
  estimated_wait_s: Type.Integer({ description: 'upper bound' }),
});
export type IssuedToken = Static<typeof IssuedToken>;

export const Claimed = Type.Object({ image_url: Type.String(), view_until: Type.String() });
export type Claimed = Static<typeof Claimed>;
