/**
 * Reading a taxpayer from query parameters (or a batch item): every problem is listed, in the
 * contract's order — wrong set of parameters; each missing one; invalid married value; children
 * and salary not non-negative integers; each unknown parameter — in English or in French.
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

const MESSAGES = {
  en: {
    wrongSet: 'wrong set of parameters: expected married, children and salary',
    missing: (f: Field) => `missing parameter: ${NAMES[f][0]}`,
    married: 'married must be yes or no (oui or non)',
    children: `children must be a non-negative integer (at most ${MAX_CHILDREN})`,
    salary: `salary must be a non-negative integer (at most ${MAX_SALARY})`,
    unknown: (name: string) => `unknown parameter: ${name}`,
  },
  fr: {
    wrongSet: 'mauvais ensemble de paramètres : marié, enfants et salaire sont attendus',
    missing: (f: Field) => `paramètre manquant : ${NAMES[f][1]}`,
    married: 'marié doit valoir oui ou non (yes ou no)',
    children: `enfants doit être un entier positif ou nul (au plus ${MAX_CHILDREN})`,
    salary: `salaire doit être un entier positif ou nul (au plus ${MAX_SALARY})`,
    unknown: (name: string) => `paramètre inconnu : ${name}`,
  },
};

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
): Checked {
  const m = MESSAGES[language];
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
    if (field === undefined) unknown.push(name);
    else (given[field] ??= []).push(params[name]);
  }
  const errors: string[] = [];
  const exact = unknown.length === 0 && FIELDS.every((f) => given[f]?.length === 1);
  if (!exact) errors.push(m.wrongSet);
  for (const f of FIELDS) if (given[f] === undefined) errors.push(m.missing(f));

  const single = (f: Field): unknown => {
    const values = given[f];
    return values?.length === 1 ? values[0] : undefined;
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
    if (married === null) errors.push(m.married);
  }
  let children: number | null = null;
  if (given.children !== undefined) {
    children = integer(single('children'), MAX_CHILDREN);
    if (children === null) errors.push(m.children);
  }
  let salary: number | null = null;
  if (given.salary !== undefined) {
    salary = integer(single('salary'), MAX_SALARY);
    if (salary === null) errors.push(m.salary);
  }
  for (const name of unknown) errors.push(m.unknown(name.slice(0, 100)));

  if (errors.length > 0 || married === null || children === null || salary === null)
    return { ok: false, errors };
  return { ok: true, taxpayer: { married, children, salary } };
}
