import type { Database } from '../../core/db/tables.js';
/** Exact numeric types everywhere: coefficients must come back as they were stored. */
export interface TbTranchesTable {
  id: number;
  /** NULL: no upper bound (the last bracket). NUMERIC: a string on PostgreSQL/MySQL. */
  limite: number | string | null;
  coeffr: number | string;
  coeffn: number | string;
}

export interface TbConstantesTable {
  id: number;
  plafond_qf_demi_part: number | string;
  plafond_revenus_celibataire_pour_reduction: number | string;
  plafond_revenus_couple_pour_reduction: number | string;
  valeur_reduc_demi_part: number | string;
  plafond_decote_celibataire: number | string;
  plafond_decote_couple: number | string;
  plafond_impot_celibataire_pour_decote: number | string;
  plafond_impot_couple_pour_decote: number | string;
  abattement_dixpourcent_max: number | string;
  abattement_dixpourcent_min: number | string;
}

export interface TaxTables {
  tbtranches: TbTranchesTable;
  tbconstantes: TbConstantesTable;
}

/** The tax module's handle: the core's tables and its own (`app.db.withTables<TablesOf<TaxTables>>()`). */
export type TaxDatabase = Database & TaxTables;
