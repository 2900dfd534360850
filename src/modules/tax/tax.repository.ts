/** The tax module's SQL: reading the administration's data. */
import type { Kysely } from 'kysely';
import type { TaxDatabase } from './tax.tables.js';
import { EXIT_DEPENDENCY, StartupError } from '../../core/errors.js';
import type { AdminData } from './tax.engine.js';

/** The tax tables are empty or incomplete: the server cannot start (exit code 2). */
export class AdminDataMissing extends StartupError {
  override name = 'AdminDataMissing';
  constructor(message: string) {
    super(message, EXIT_DEPENDENCY);
  }
}

/** NUMERIC arrives as a string from PostgreSQL and MySQL; the decimal text maps to the same double. */
const num = (value: number | string): number => (typeof value === 'number' ? value : Number(value));

/**
 * Loads `tbtranches` and `tbconstantes` into one frozen object.
 * @throws AdminDataMissing when the tables are empty or incomplete.
 */
export async function loadAdminData(db: Kysely<TaxDatabase>): Promise<AdminData> {
  const brackets = await db.selectFrom('tbtranches').selectAll().orderBy('id').execute();
  const constants = await db
    .selectFrom('tbconstantes')
    .selectAll()
    .where('id', '=', 1)
    .executeTakeFirst();
  if (brackets.length === 0 || !constants)
    throw new AdminDataMissing('tax admin data missing: tbtranches or tbconstantes is empty');
  if (brackets.some((b, i) => b.limite === null && i !== brackets.length - 1)) {
    throw new AdminDataMissing('tax admin data invalid: only the last bracket may be unbounded');
  }
  // Without an unbounded top bracket, incomes above the last limit would be taxed at that
  // bracket's rate: silently wrong (200000 single: 62960 at 0.41 instead of 64210 at 0.45).
  const top = brackets.at(-1);
  if (top?.limite !== null) {
    throw new AdminDataMissing(
      'tax admin data invalid: the last bracket must be unbounded (limite NULL); the top bracket is missing',
    );
  }
  const limits = brackets.slice(0, -1).map((b) => num(b.limite ?? 0));
  if (limits.some((limit, i) => i > 0 && limit <= (limits[i - 1] ?? 0))) {
    throw new AdminDataMissing('tax admin data invalid: bracket limits must increase');
  }
  return Object.freeze({
    limites: Object.freeze(brackets.map((b) => (b.limite === null ? Infinity : num(b.limite)))),
    coeffr: Object.freeze(brackets.map((b) => num(b.coeffr))),
    coeffn: Object.freeze(brackets.map((b) => num(b.coeffn))),
    plafond_qf_demi_part: num(constants.plafond_qf_demi_part),
    plafond_revenus_celibataire_pour_reduction: num(
      constants.plafond_revenus_celibataire_pour_reduction,
    ),
    plafond_revenus_couple_pour_reduction: num(constants.plafond_revenus_couple_pour_reduction),
    valeur_reduc_demi_part: num(constants.valeur_reduc_demi_part),
    plafond_decote_celibataire: num(constants.plafond_decote_celibataire),
    plafond_decote_couple: num(constants.plafond_decote_couple),
    plafond_impot_celibataire_pour_decote: num(constants.plafond_impot_celibataire_pour_decote),
    plafond_impot_couple_pour_decote: num(constants.plafond_impot_couple_pour_decote),
    abattement_dixpourcent_max: num(constants.abattement_dixpourcent_max),
    abattement_dixpourcent_min: num(constants.abattement_dixpourcent_min),
  });
}
