/**
 * The French income tax engine (2019 scale, 2018 income): a pure function of the administration's
 * data and one taxpayer. Nothing here is shared or mutated between calls (the original mutated
 * its admin-data object on every request, a race under threads).
 */

/** The administration's data, as stored in `tbtranches` and `tbconstantes`. */
export interface AdminData {
  /** Upper bounds of the brackets; the last one is Infinity. */
  readonly limites: readonly number[];
  readonly coeffr: readonly number[];
  readonly coeffn: readonly number[];
  readonly plafond_qf_demi_part: number;
  readonly plafond_revenus_celibataire_pour_reduction: number;
  readonly plafond_revenus_couple_pour_reduction: number;
  readonly valeur_reduc_demi_part: number;
  readonly plafond_decote_celibataire: number;
  readonly plafond_decote_couple: number;
  readonly plafond_impot_celibataire_pour_decote: number;
  readonly plafond_impot_couple_pour_decote: number;
  readonly abattement_dixpourcent_max: number;
  readonly abattement_dixpourcent_min: number;
}

export interface Taxpayer {
  married: boolean;
  children: number;
  salary: number;
}

export interface TaxResult {
  tax: number;
  surcharge: number;
  rate: number;
  discount: number;
  reduction: number;
}

/** Salary after the 10 % allowance (bounded), rounded down. */
export function taxableIncome(admin: AdminData, salary: number): number {
  const allowance = Math.min(
    Math.max(0.1 * salary, admin.abattement_dixpourcent_min),
    admin.abattement_dixpourcent_max,
  );
  // A salary below the minimum allowance has nothing taxable (never a negative income).
  return Math.max(0, Math.floor(salary - allowance));
}

/** Parts (shares) of a household: 1 or 2 adults, a half per child, a whole from the third. */
function sharesOf(married: boolean, children: number): number {
  const shares = children / 2 + (married ? 2 : 1);
  return children >= 3 ? shares + 0.5 * (children - 2) : shares;
}

/** The first bracket whose upper bound is not below the quotient (the last one is Infinity). */
function bracketIndex(admin: AdminData, quotient: number): number {
  const { limites } = admin;
  let i = 0;
  while (i < limites.length - 1 && quotient > (limites[i] ?? Infinity)) i++;
  return i;
}

/** The most the children's shares may lower the tax: the family quotient's cap. */
function childrenCap(admin: AdminData, children: number): number {
  const cap = admin.plafond_qf_demi_part;
  return children < 3 ? children * cap : 2 * cap + (children - 2) * 2 * cap;
}

/** The discount (décote) applies to a tax below this. */
function discountThreshold(admin: AdminData, married: boolean): number {
  return married
    ? admin.plafond_impot_couple_pour_decote
    : admin.plafond_impot_celibataire_pour_decote;
}

/** The 20 % reduction applies to a taxable income below this. */
function reductionCeiling(admin: AdminData, married: boolean, children: number): number {
  return (
    (married
      ? admin.plafond_revenus_couple_pour_reduction
      : admin.plafond_revenus_celibataire_pour_reduction) +
    children * admin.valeur_reduc_demi_part +
    (children > 2 ? (children - 2) * admin.valeur_reduc_demi_part : 0)
  );
}

function gross(
  admin: AdminData,
  married: boolean,
  children: number,
  salary: number,
): [number, number, number] {
  const parts = sharesOf(married, children);
  const income = taxableIncome(admin, salary);
  const surcharge = Math.max(0, Math.floor(income - 0.9 * salary));
  const i = bracketIndex(admin, income / parts);
  const rate = admin.coeffr[i] ?? 0;
  const constant = admin.coeffn[i] ?? 0;
  return [Math.floor(income * rate - parts * constant), surcharge, rate];
}

/** The tax of one taxpayer, with how it was reached. */
export function computeTax(admin: AdminData, taxpayer: Taxpayer): TaxResult {
  const { married, children, salary } = taxpayer;
  const [i1, s1, t1] = gross(admin, married, children, salary);
  let [i2, s2, t2] = [i1, s1, t1];
  if (children > 0) {
    [i2, s2, t2] = gross(admin, married, 0, salary);
    // The family quotient's advantage is capped per half share.
    i2 -= childrenCap(admin, children);
  }
  const [chosen, surcharge, rate] = i1 >= i2 ? [i1, s1, t1] : [i2, i2 - i1 + s2, t2];
  let tax = chosen;

  let discount = 0;
  if (tax < discountThreshold(admin, married)) {
    const ceiling = married ? admin.plafond_decote_couple : admin.plafond_decote_celibataire;
    discount = Math.min(Math.max(ceiling - 0.75 * tax, 0), tax);
  }
  discount = Math.ceil(discount);
  tax -= discount;

  const reduction =
    taxableIncome(admin, salary) < reductionCeiling(admin, married, children)
      ? Math.ceil(0.2 * tax)
      : 0;
  tax -= reduction;

  // `+ 0` turns the -0 that floor/ceil can leave on zero amounts into 0.
  return {
    tax: Math.floor(tax) + 0,
    surcharge: surcharge + 0,
    rate,
    discount: discount + 0,
    reduction: reduction + 0,
  };
}

/** How a result was reached, step by step: what a user of the official simulator expects. */
export interface TaxExplanation {
  /** Parts (shares) of the household: 1 or 2 adults, then the children's. */
  shares: number;
  /** The 10 % allowance on the salary, within its minimum and maximum. */
  allowance: number;
  taxable_income: number;
  /** Taxable income per share, which picks the bracket. */
  quotient: number;
  /** The bracket of the quotient: its bounds (`to` null for the last) and its rate. */
  bracket: { from: number; to: number | null; rate: number };
  /** The tax with every share (the family quotient). */
  tax_with_all_shares: number;
  /**
   * With children: the tax with the adults' shares only, less the capped advantage of the
   * children's half shares. Null without children.
   */
  tax_with_capped_advantage: number | null;
  /** True when the cap gave the higher tax, which is then the one kept. */
  capped: boolean;
  tax_before_discount: number;
  /** The discount applies below this tax (couple or single). */
  discount_threshold: number;
  discount: number;
  /** The 20 % reduction applies below this taxable income. */
  reduction_income_ceiling: number;
  reduction: number;
  tax: number;
  marginal_rate: number;
  /** Tax over salary (0 without salary). */
  average_rate: number;
  /** The same, in sentences. */
  steps: string[];
}

const euros = (n: number): string => `${Math.round(n).toLocaleString('en')} €`;
const percent = (r: number): string => `${String(Math.round(r * 1000) / 10)} %`;

/**
 * `computeTax`'s steps, with their intermediate values. Written out separately so that the
 * request path keeps its allocation-free `computeTax`; a test checks both agree on every input.
 */
export function explainTax(admin: AdminData, taxpayer: Taxpayer): TaxExplanation {
  const { married, children, salary } = taxpayer;
  const adults = sharesOf(married, 0);
  const shares = sharesOf(married, children);
  const income = taxableIncome(admin, salary);
  const allowance = salary - income;
  const bracketOf = (q: number): { from: number; to: number | null; rate: number } => {
    const i = bracketIndex(admin, q);
    const upper = admin.limites[i] ?? Infinity;
    return {
      from: i === 0 ? 0 : (admin.limites[i - 1] ?? 0),
      to: Number.isFinite(upper) ? upper : null,
      rate: admin.coeffr[i] ?? 0,
    };
  };
  const range = (b: { from: number; to: number | null }): string =>
    `${euros(b.from)} – ${b.to === null ? 'and above' : euros(b.to)}`;
  const result = computeTax(admin, taxpayer);
  const [withAll] = gross(admin, married, children, salary);
  let withCap: number | null = null;
  if (children > 0) {
    const [adultsOnly] = gross(admin, married, 0, salary);
    withCap = adultsOnly - childrenCap(admin, children);
  }
  const capped = withCap !== null && withCap > withAll;
  const beforeDiscount = capped && withCap !== null ? withCap : withAll;
  // The bracket of the computation kept: all shares, or the adults' only when capped.
  const quotient = income / (capped ? adults : shares);
  const bracket = bracketOf(quotient);
  const allShares = bracketOf(income / shares);
  const threshold = discountThreshold(admin, married);
  const ceiling = reductionCeiling(admin, married, children);
  const average = salary > 0 ? result.tax / salary : 0;

  const steps = [
    `${married ? 'A couple' : 'One adult'} with ${String(children)} child${children === 1 ? '' : 'ren'}: ${String(shares)} shares.`,
    `Taxable income: ${euros(salary)} less the 10 % allowance of ${euros(allowance)} = ${euros(income)}.`,
    `Per share: ${euros(income / shares)}, in the bracket ${range(allShares)}, taxed at ${percent(allShares.rate)}.`,
    `Tax with all ${String(shares)} shares: ${euros(Math.max(0, withAll))}.`,
  ];
  if (withCap !== null)
    steps.push(
      capped
        ? `The children's shares may lower the tax by at most ${euros(admin.plafond_qf_demi_part)} per half share: computed on the adults' ${String(adults)} share${adults === 1 ? '' : 's'} (per share ${euros(quotient)}, bracket ${range(bracket)} at ${percent(bracket.rate)}) less that cap, the tax is ${euros(withCap)}${result.surcharge > 0 ? `, a surcharge of ${euros(result.surcharge)}` : ''}.`
        : `The children's shares lower the tax by less than their cap of ${euros(admin.plafond_qf_demi_part)} per half share: no cap.`,
    );
  else if (result.surcharge > 0)
    steps.push(`The allowance's ceiling leaves a surcharge of ${euros(result.surcharge)}.`);
  steps.push(
    result.discount > 0
      ? `Below ${euros(threshold)} of tax, a discount (décote) of ${euros(result.discount)}.`
      : `No discount (décote): it applies below ${euros(threshold)} of tax.`,
    result.reduction > 0
      ? `Taxable income below ${euros(ceiling)}: a 20 % reduction of ${euros(result.reduction)}.`
      : `No reduction: it applies below ${euros(ceiling)} of taxable income.`,
    `Marginal rate ${percent(result.rate)}. Tax: ${euros(result.tax)}, ${percent(average)} of the salary.`,
  );
  return {
    shares,
    allowance,
    taxable_income: income,
    quotient: Math.round(quotient * 100) / 100,
    bracket,
    tax_with_all_shares: withAll,
    tax_with_capped_advantage: withCap,
    capped,
    tax_before_discount: beforeDiscount,
    discount_threshold: threshold,
    discount: result.discount,
    reduction_income_ceiling: ceiling,
    reduction: result.reduction,
    tax: result.tax,
    marginal_rate: result.rate,
    average_rate: Math.round(average * 10_000) / 10_000,
    steps,
  };
}
