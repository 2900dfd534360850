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

function gross(
  admin: AdminData,
  married: boolean,
  children: number,
  salary: number,
): [number, number, number] {
  let parts = children / 2 + (married ? 2 : 1);
  if (children >= 3) parts += 0.5 * (children - 2);
  const income = taxableIncome(admin, salary);
  const surcharge = Math.max(0, Math.floor(income - 0.9 * salary));
  const quotient = income / parts;
  // The first bracket whose upper bound is not below the quotient (the last one is Infinity).
  const { limites } = admin;
  let i = 0;
  while (i < limites.length - 1 && quotient > (limites[i] ?? Infinity)) i++;
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
    const cap = admin.plafond_qf_demi_part;
    i2 -= children < 3 ? children * cap : 2 * cap + (children - 2) * 2 * cap;
  }
  const [chosen, surcharge, rate] = i1 >= i2 ? [i1, s1, t1] : [i2, i2 - i1 + s2, t2];
  let tax = chosen;

  let discount = 0;
  if (
    tax <
    (married ? admin.plafond_impot_couple_pour_decote : admin.plafond_impot_celibataire_pour_decote)
  ) {
    const ceiling = married ? admin.plafond_decote_couple : admin.plafond_decote_celibataire;
    discount = Math.min(Math.max(ceiling - 0.75 * tax, 0), tax);
  }
  discount = Math.ceil(discount);
  tax -= discount;

  const incomeCeiling =
    (married
      ? admin.plafond_revenus_couple_pour_reduction
      : admin.plafond_revenus_celibataire_pour_reduction) +
    children * admin.valeur_reduc_demi_part +
    (children > 2 ? (children - 2) * admin.valeur_reduc_demi_part : 0);
  const reduction = taxableIncome(admin, salary) < incomeCeiling ? Math.ceil(0.2 * tax) : 0;
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
