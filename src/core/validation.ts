/**
 * Schema validation for routes. Query strings and path parameters are text, so they are coerced
 * to the schema's types; bodies are JSON and are checked as sent — `"5"` is not an integer and
 * an unknown property is an error, not silently dropped.
 */
import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { isRecord } from './records.js';

// ajv-formats is CommonJS: under ESM its plugin function is the module's `default` property.
const addFormats = addFormatsModule.default;

const base: Options = {
  allErrors: false,
  useDefaults: true,
  removeAdditional: false,
  strict: false,
};

export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const strictAjv = new Ajv({ ...base, coerceTypes: false });
  const coercingAjv = new Ajv({ ...base, coerceTypes: 'array' });
  addFormats(strictAjv);
  addFormats(coercingAjv);
  return ({ schema, httpPart }) =>
    httpPart === 'body'
      ? strictAjv.compile(schema as object)
      : coercingAjv.compile(schema as object);
}

/**
 * Narrows request data a route reads field by field instead of through a schema (a form whose
 * original answered its own errors, a stream): a check, never a cast.
 */
export { isRecord } from './records.js';

/** A parsed query string's values: a string, or a list for a repeated key; anything else dropped. */
export function queryValues(query: unknown): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  if (!isRecord(query)) return out;
  for (const [key, value] of Object.entries(query)) {
    if (typeof value === 'string') out[key] = value;
    else if (Array.isArray(value)) out[key] = value.filter((v) => typeof v === 'string');
  }
  return out;
}
