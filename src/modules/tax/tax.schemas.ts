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

/** `explainTax`'s steps (`explain=true`), in English keys whatever the language. */
export const Explanation = Type.Object(
  {
    shares: Type.Number(),
    allowance: Type.Integer(),
    taxable_income: Type.Integer(),
    quotient: Type.Number({ description: 'taxable income per share of the computation kept' }),
    bracket: Type.Object({
      from: Type.Number(),
      to: Type.Union([Type.Number(), Type.Null()]),
      rate: Type.Number(),
    }),
    tax_with_all_shares: Type.Integer(),
    tax_with_capped_advantage: Type.Union([Type.Integer(), Type.Null()]),
    capped: Type.Boolean(),
    tax_before_discount: Type.Integer(),
    discount_threshold: Type.Integer(),
    discount: Type.Integer(),
    reduction_income_ceiling: Type.Integer(),
    reduction: Type.Integer(),
    tax: Type.Integer(),
    marginal_rate: Type.Number(),
    average_rate: Type.Number(),
    steps: Type.Array(Type.String()),
  },
  { description: 'how the result was reached (with `explain=true`)' },
);

export const TaxAnswerEn = Type.Object({
  response: Type.Object({ result: ResultEn, explanation: Type.Optional(Explanation) }),
});
export const TaxAnswerFr = Type.Object({
  réponse: Type.Object({ result: ResultFr, explanation: Type.Optional(Explanation) }),
});
export const TaxErrorsEn = Type.Object({ response: Type.Object({ errors: Errors }) });
export const TaxErrorsFr = Type.Object({ réponse: Type.Object({ erreurs: Errors }) });
export const BatchAnswerEn = Type.Object({
  response: Type.Object({
    results: Type.Array(
      Type.Union([Type.Object({ result: ResultEn }), Type.Object({ errors: Errors })]),
    ),
  }),
});
export const BatchAnswerFr = Type.Object({
  réponse: Type.Object({
    résultats: Type.Array(
      Type.Union([Type.Object({ result: ResultFr }), Type.Object({ erreurs: Errors })]),
    ),
  }),
});
/** Either language: what a client accepts. The server declares only its configured one, which
 * keeps serialisation fast (a union would be checked branch by branch on every answer). */
export const TaxAnswer = Type.Union([TaxAnswerEn, TaxAnswerFr]);
export const TaxErrors = Type.Union([TaxErrorsEn, TaxErrorsFr]);
export const BatchAnswer = Type.Union([BatchAnswerEn, BatchAnswerFr]);

// Repeated parameters arrive as arrays; the handler reports them as invalid values.
const Param = (description: string) =>
  Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description }));

export const TaxQuery = Type.Object(
  {
    married: Param('yes/no (or oui/non); also accepted as `marié`'),
    children: Param('non-negative integer; also accepted as `enfants`'),
    salary: Param('non-negative integer (euros); also accepted as `salaire`'),
    explain: Param(
      '`true`: the answer also carries `explanation`, the steps of the computation (not in the compatibility profile)',
    ),
  },
  { additionalProperties: true },
);

export function resultEn(taxpayer: Taxpayer, r: TaxResult): ResultEn {
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

export function resultFr(taxpayer: Taxpayer, r: TaxResult): ResultFr {
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
