/** The tax module's wire shapes: English keys by default, the original client's French keys on demand. */
import { Type, type Static } from 'typebox';
import type { TaxResult, Taxpayer } from './tax.engine.js';
import type { Language } from './tax.validation.js';

export const ResultEn = Type.Object({
  married: Type.Union([Type.Literal('yes'), Type.Literal('no')]),
  children: Type.Integer(),
  salary: Type.Integer(),
  tax: Type.Integer(),
  surcharge: Type.Integer(),
  rate: Type.Number(),
  discount: Type.Integer(),
  reduction: Type.Integer(),
});
export const ResultFr = Type.Object({
  marié: Type.Union([Type.Literal('oui'), Type.Literal('non')]),
  enfants: Type.Integer(),
  salaire: Type.Integer(),
  impôt: Type.Integer(),
  surcôte: Type.Integer(),
  taux: Type.Number(),
  décôte: Type.Integer(),
  réduction: Type.Integer(),
});
export type ResultEn = Static<typeof ResultEn>;
export type ResultFr = Static<typeof ResultFr>;

const Errors = Type.Array(Type.String());

export const TaxAnswer = Type.Union([
  Type.Object({ response: Type.Object({ result: ResultEn }) }),
  Type.Object({ réponse: Type.Object({ result: ResultFr }) }),
]);
export const TaxErrors = Type.Union([
  Type.Object({ response: Type.Object({ errors: Errors }) }),
  Type.Object({ réponse: Type.Object({ erreurs: Errors }) }),
]);
const BatchItem = Type.Union([
  Type.Object({ result: Type.Union([ResultEn, ResultFr]) }),
  Type.Object({ errors: Errors }),
  Type.Object({ erreurs: Errors }),
]);
export const BatchAnswer = Type.Union([
  Type.Object({ response: Type.Object({ results: Type.Array(BatchItem) }) }),
  Type.Object({ réponse: Type.Object({ résultats: Type.Array(BatchItem) }) }),
]);

// Repeated parameters arrive as arrays; the handler reports them as invalid values.
const Param = (description: string) =>
  Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description }));

export const TaxQuery = Type.Object(
  {
    married: Param('yes/no (or oui/non); also accepted as `marié`'),
    children: Param('non-negative integer; also accepted as `enfants`'),
    salary: Param('non-negative integer (euros); also accepted as `salaire`'),
  },
  { additionalProperties: true },
);

function resultEn(taxpayer: Taxpayer, r: TaxResult): ResultEn {
  return {
    married: taxpayer.married ? 'yes' : 'no',
    children: taxpayer.children,
    salary: taxpayer.salary,
    tax: r.tax,
    surcharge: r.surcharge,
    rate: r.rate,
    discount: r.discount,
    reduction: r.reduction,
  };
}

function resultFr(taxpayer: Taxpayer, r: TaxResult): ResultFr {
  return {
    marié: taxpayer.married ? 'oui' : 'non',
    enfants: taxpayer.children,
    salaire: taxpayer.salary,
    impôt: r.tax,
    surcôte: r.surcharge,
    taux: r.rate,
    décôte: r.discount,
    réduction: r.reduction,
  };
}

/** One result in the configured language. */
export function formatResult(
  taxpayer: Taxpayer,
  r: TaxResult,
  language: Language,
): ResultEn | ResultFr {
  return language === 'fr' ? resultFr(taxpayer, r) : resultEn(taxpayer, r);
}

/** The answer to `GET /tax/`, in the configured language. */
export function answer(
  taxpayer: Taxpayer,
  r: TaxResult,
  language: Language,
): Static<typeof TaxAnswer> {
  return language === 'fr'
    ? { réponse: { result: resultFr(taxpayer, r) } }
    : { response: { result: resultEn(taxpayer, r) } };
}

export function errorBody(errors: string[], language: Language): Static<typeof TaxErrors> {
  return language === 'fr' ? { réponse: { erreurs: errors } } : { response: { errors } };
}
