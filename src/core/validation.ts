/**
 * Schema validation for routes. Query strings and path parameters are text, so they are coerced
 * to the schema's types; bodies are JSON and are checked as sent — `"5"` is not an integer and
 * an unknown property is an error, not silently dropped.
 */
import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

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
