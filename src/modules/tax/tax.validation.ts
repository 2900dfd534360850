/**
 * Reading a taxpayer from query parameters (or a batch item): every problem is listed, in the
 * contract's order — wrong set of parameters; each missing one; invalid married value; children
 * and salary not non-negative integers; each unknown parameter — in English, or in the original
 * server's French texts.
 */
import type { Taxpayer } from './tax.engine.js';

export type Language = 'en' | 'fr';

const NAMES = {
  married: ['married', 'marié'],
  children: ['children', 'enfants'],
  salary: ['salary', 'salaire'],
} as const;
type Field = keyof typeof NAMES;
const FIELDS: Field[] = ['married', 'children', 'salary'];

const MAX_CHILDREN = 99;
const MAX_SALARY = 1_000_000_000;

/** A value as echoed in a message: trimmed, bounded. */
const shown = (value: unknown): string =>
  // Values come from a query string or JSON: JSON.stringify writes every one but undefined.
  (value === undefined
    ? ''
    : typeof value === 'string'
      ? value.trim()
      : JSON.stringify(value)
  ).slice(0, 100);

interface Messages {
  wrongSet: string;
  missing: (f: Field) => string;
  invalid: (f: Field, value: unknown) => string;
  unknown: (name: string) => string;
}

const MESSAGES: Record<Language, Messages> = {
  en: {
    wrongSet: 'wrong set of parameters: expected married, children and salary',
    missing: (f) => `missing parameter: ${NAMES[f][0]}`,
    invalid: (f) =>
      f === 'married'
        ? 'married must be yes or no (oui or non)'
        : f === 'children'
          ? `children must be a non-negative integer (at most ${MAX_CHILDREN})`
          : `salary must be a non-negative integer (at most ${MAX_SALARY})`,
    unknown: (name) => `unknown parameter: ${name}`,
  },
  // The original server's texts, which its client shows.
  fr: {
    wrongSet: 'Méthode GET requise avec les seuls paramètres [marié, enfants, salaire]',
    missing: (f) => `paramètre [${NAMES[f][1]}] manquant`,
    invalid: (f, value) => `paramètre ${NAMES[f][1]} [${shown(value)}] invalide`,
    unknown: (name) => `paramètre [${name}] inconnu`,
  },
};

/**
 * How the original server read its parameters (the compatibility profile): the first of
 * repeated values, the set counted by distinct names, no message per unknown name (the wrong
 * set says it).
 */
export interface Reading {
  original: boolean;
}

export type Checked = { ok: true; taxpayer: Taxpayer } | { ok: false; errors: string[] };

/** Every accepted parameter name → its field. */
const FIELD_OF = new Map<string, Field>(
  FIELDS.flatMap((f) => NAMES[f].map((n) => [n, f] as const)),
);

function integer(value: unknown, max: number): number | null {
  if (typeof value === 'number')
    return Number.isInteger(value) && value >= 0 && value <= max ? value : null;
  if (typeof value !== 'string' || !/^\s*\d{1,12}\s*$/.test(value)) return null;
  const n = Number(value.trim());
  return n <= max ? n : null;
}

/** Checks one taxpayer given as name → value (query parameters or a JSON object). */
export function checkTaxpayer(
  params: Readonly<Record<string, unknown>>,
  language: Language,
  reading: Reading = { original: false },
): Checked {
  const m = MESSAGES[language];
  const { original } = reading;
  // The values given for each field, under any of its names (on the request path: a plain
  // object, no Map built per request).
  const given: Record<Field, unknown[] | undefined> = {
    married: undefined,
    children: undefined,
    salary: undefined,
  };
  const unknown: string[] = [];
  for (const name of Object.keys(params)) {
    const field = FIELD_OF.get(name);
    const value = params[name];
    if (field === undefined) unknown.push(name);
    // Repeated in the query string (`marié=oui&marié=non`): the original took the first.
    else (given[field] ??= []).push(original && Array.isArray(value) ? value[0] : value);
  }
  const errors: string[] = [];
  const exact = original
    ? Object.keys(params).length === FIELDS.length
    : unknown.length === 0 && FIELDS.every((f) => given[f]?.length === 1);
  if (!exact) errors.push(m.wrongSet);
  for (const f of FIELDS) if (given[f] === undefined) errors.push(m.missing(f));

  const single = (f: Field): unknown => {
    const values = given[f];
    return original || values?.length === 1 ? values?.[0] : undefined;
  };
  let married: boolean | null = null;
  if (given.married !== undefined) {
    const raw = single('married');
    const text =
      typeof raw === 'string'
        ? raw.trim().toLowerCase()
        : typeof raw === 'boolean'
          ? raw
            ? 'yes'
            : 'no'
          : '';
    married =
      text === 'oui' || text === 'yes' ? true : text === 'non' || text === 'no' ? false : null;
    if (married === null) errors.push(m.invalid('married', raw));
  }
  let children: number | null = null;
  if (given.children !== undefined) {
    children = integer(single('children'), MAX_CHILDREN);
    if (children === null) errors.push(m.invalid('children', single('children')));
  }
  let salary: number | null = null;
  if (given.salary !== undefined) {
    salary = integer(single('salary'), MAX_SALARY);
    if (salary === null) errors.push(m.invalid('salary', single('salary')));
  }
  if (!original) for (const name of unknown) errors.push(m.unknown(name.slice(0, 100)));

  if (errors.length > 0 || married === null || children === null || salary === null)
    return { ok: false, errors };
  return { ok: true, taxpayer: { married, children, salary } };
}
