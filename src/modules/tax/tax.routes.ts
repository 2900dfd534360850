/**
 * `GET /tax/?married=…&children=…&salary=…` and `POST /tax/batch`, behind Basic auth, with one
 * audit line per request.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { isAppError, type AppError } from '../../core/errors.js';
import { jsonMilliseconds, jsonNumber, jsonString, requestFields } from '../../core/logging.js';
import { modulePage } from '../../core/pages.js';
import type { Verifier } from './tax.auth.js';
import { HasherBusy } from './tax.hasher.js';
import type { LoginGuard } from './tax.logins.js';
import { computeTax, explainTax, type AdminData, type TaxResult } from './tax.engine.js';
import {
  BatchAnswerEn,
  BatchAnswerFr,
  TaxAnswerEn,
  TaxAnswerFr,
  TaxErrorsEn,
  TaxErrorsFr,
  TaxQuery,
  answer,
  errorBody,
  resultEn,
  resultFr,
} from './tax.schemas.js';
import { checkTaxpayer, type Language } from './tax.validation.js';
import { isRecord } from '../../core/validation.js';
import { TaxErrors } from './tax.errors.js';

/** Where audit lines go (one JSON line per request). */
export interface AuditLog {
  /** False when no line would be written anywhere (no file, stdout below info): skip building it. */
  readonly enabled: boolean;
  /**
   * The lines go to the app's log too: a request's audit line, which says all its request line
   * would (method, URL, status, time), stands for it there.
   */
  readonly inAppLog: boolean;
  /** `fields`: the line's JSON members (`auditFields`). */
  write(fields: string, message: string): void;
}

export interface TaxRouteOptions {
  admin: AdminData;
  verifier: Verifier;
  logins: LoginGuard;
  realm: string;
  language: Language;
  /** The original's profile: its reading of parameters and its 401. */
  original: boolean;
  audit: AuditLog;
  batchMax: number;
  /** No users configured: the default admin/admin account is in use (the page says so). */
  demoAccount?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    taxUser?: string;
  }
}

/**
 * The fields of a request's audit line: all its request line would say (method, URL, status,
 * time), who asked, and the outcome (what was asked and the result or the errors; for a batch,
 * how many items and how many failed). Written here, field by field, rather than as an object for
 * pino to walk (see `AccessLog`); in the same order, and to the same bytes.
 */
function auditFields(
  request: FastifyRequest,
  reply: FastifyReply,
  user: string | undefined,
  status: number,
  outcome: string,
): string {
  const who = user === undefined ? '' : `"user":${jsonString(user)},`;
  return `"audit":"tax",${requestFields(request)},${who}"status":${status},"ms":${jsonMilliseconds(reply.elapsedTime)},${outcome}`;
}

/** The parameters as given: each a string, or an array for a repeated one. */
function paramsJson(params: Readonly<Record<string, unknown>>): string {
  let out = '';
  for (const key in params) {
    if (!Object.hasOwn(params, key)) continue;
    const value = params[key];
    if (value === undefined) continue;
    const json = typeof value === 'string' ? jsonString(value) : JSON.stringify(value);
    out += `${out === '' ? '' : ','}${jsonString(key)}:${json}`;
  }
  return `{${out}}`;
}

/** The outcome of one computed taxpayer. */
function computedJson(params: Readonly<Record<string, unknown>>, r: TaxResult): string {
  return `"params":${paramsJson(params)},"result":{"tax":${jsonNumber(r.tax)},"surcharge":${jsonNumber(r.surcharge)},"rate":${jsonNumber(r.rate)},"discount":${jsonNumber(r.discount)},"reduction":${jsonNumber(r.reduction)}}`;
}

/** The outcome of a refused request. */
function refusedJson(params: Readonly<Record<string, unknown>>, errors: readonly string[]): string {
  return `"params":${paramsJson(params)},"errors":[${errors.map(jsonString).join(',')}]`;
}

export async function taxRoutes(app: FastifyInstance, options: TaxRouteOptions): Promise<void> {
  const { admin, verifier, language, audit } = options;
  const reading = { original: options.original };
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();
  if (options.original) {
    // The original's 401 (Flask-HTTPAuth's): a short HTML body rather than the JSON envelope.
    app.setErrorHandler((error, _request, reply) => {
      if (
        !isAppError(error) ||
        (error.code !== 'TAX_AUTH_REQUIRED' && error.code !== 'TAX_AUTH_FAILED')
      )
        throw error;
      return reply
        .code(401)
        .headers(error.headers ?? {})
        .type('text/html; charset=utf-8')
        .send('Unauthorized Access');
    });
  }

  const challenge = `Basic realm="${options.realm}", charset="UTF-8"`;
  // Browsers answer a Basic challenge to a script's request with their own login dialog;
  // scripts that say so (X-Requested-With, as the tax page does) get the 401 without it.
  const challengeFor = (request: FastifyRequest): string | null =>
    request.headers['x-requested-with'] === 'XMLHttpRequest' ? null : challenge;
  const authRequired = (request: FastifyRequest): AppError =>
    TaxErrors.authRequired(language, challengeFor(request));

  /** `authenticate` once memory had no answer: the failure limit, then the hash. */
  const checkCredentials = async (request: FastifyRequest): Promise<string> => {
    const header = request.headers.authorization;
    const socket = request.raw.socket;
    if (header === undefined) throw authRequired(request);
    const wait = await options.logins.waitSeconds(request.ip);
    if (wait > 0) {
      throw TaxErrors.tooManyFailedLogins(language, wait);
    }
    let user: string | null;
    try {
      user = await verifier.verify(header, socket);
    } catch (err) {
      if (!(err instanceof HasherBusy)) throw err;
      throw TaxErrors.authBusy(language);
    }
    if (user === null) {
      await options.logins.failed(request.ip);
      // Basic credentials that do not match, or something else than Basic credentials.
      throw /^basic\s/i.test(header)
        ? TaxErrors.authFailed(language, challengeFor(request))
        : authRequired(request);
    }
    await options.logins.succeeded(request.ip);
    return user;
  };
  /**
   * The user behind the request's Basic credentials, or the error: 401 (none, or wrong), 429
   * (too many wrong ones from this client: refused before any hashing), 503 (too many checks
   * waiting for the hashing thread).
   */
  const authenticate = async (request: FastifyRequest): Promise<string> =>
    verifier.remembered(request.headers.authorization, request.raw.socket) ??
    checkCredentials(request);

  const security = [{ basicAuth: [] }];
  /** A browser opening the bare URL gets the page; anything with parameters is the API. */
  const page = modulePage('tax');
  const fr = language === 'fr';
  /** The query string: taxpayer parameters are checked one by one, in the original's order. */
  const queryOf = (request: FastifyRequest): Readonly<Record<string, unknown>> => {
    const query: unknown = request.query;
    return isRecord(query) ? query : {};
  };
  const errors = fr ? TaxErrorsFr : TaxErrorsEn;

  /** One taxpayer from the query string: the answer, or undefined once a 400 is sent on `reply`. */
  const taxFor = (
    request: FastifyRequest,
    reply: FastifyReply,
    user: string,
  ): ReturnType<typeof answer> | undefined => {
    const params = queryOf(request);
    // `explain` is Agora's own parameter; the original's profile knows only the three.
    const explain = options.original ? undefined : params.explain;
    let taxpayerParams = params;
    if (explain !== undefined) {
      if (explain !== 'true' && explain !== 'false') {
        const message = fr
          ? '`explain` doit valoir true ou false'
          : '`explain` must be true or false';
        void reply.code(400).send(errorBody([message], language));
        return undefined;
      }
      const { explain: _flag, ...rest } = params;
      taxpayerParams = rest;
    }
    const checked = checkTaxpayer(taxpayerParams, language, reading);
    if (!checked.ok) {
      if (audit.enabled) {
        audit.write(
          auditFields(request, reply, user, 400, refusedJson(params, checked.errors)),
          'tax request refused',
        );
        request.lineWritten = audit.inAppLog;
      }
      void reply.code(400).send(errorBody(checked.errors, language));
      return undefined;
    }
    const result = computeTax(admin, checked.taxpayer);
    if (audit.enabled) {
      audit.write(
        auditFields(request, reply, user, 200, computedJson(params, result)),
        'tax computed',
      );
      request.lineWritten = audit.inAppLog;
    }
    const body = answer(checked.taxpayer, result, language);
    if (explain !== 'true') return body;
    const explanation = explainTax(admin, checked.taxpayer);
    return 'response' in body
      ? { response: { ...body.response, explanation } }
      : { réponse: { ...body.réponse, explanation } };
  };

  routes.get(
    '/',
    {
      schema: {
        tags: ['tax'],
        summary: 'Income tax of one taxpayer (2019 scale, 2018 income)',
        security,
        querystring: TaxQuery,
        response: {
          200: fr ? TaxAnswerFr : TaxAnswerEn,
          400: errors,
          401: errors,
          429: errors,
          503: errors,
        },
      },
    },
    (request, reply) => {
      if (page.wanted(request)) {
        void page.send(reply);
        return undefined;
      }
      // Authentication here rather than in a hook: one stage less per request. (Like a
      // preHandler, it runs after validation.) Credentials verified lately are known without a
      // promise, and then the whole request is answered in this turn of the loop.
      const user = verifier.remembered(request.headers.authorization, request.raw.socket);
      if (user !== null) return taxFor(request, reply, user);
      return checkCredentials(request).then((u) => taxFor(request, reply, u));
    },
  );

  routes.get(
    '/demo-account',
    {
      schema: {
        tags: ['tax'],
        summary: 'Whether the default admin/admin account is in use (no users configured)',
        description:
          'For the web page, which hints the demo account only while it works. Once `tax.users` is set, `active` is false and no name is given.',
        response: {
          200: Type.Object({
            active: Type.Boolean(),
            user: Type.Optional(Type.String()),
            password: Type.Optional(Type.String()),
          }),
        },
      },
    },
    () =>
      options.demoAccount === true
        ? { active: true, user: 'admin', password: 'admin' }
        : { active: false },
  );

  routes.post(
    '/batch',
    {
      preHandler: async (request) => {
        request.taxUser = await authenticate(request);
      },
      schema: {
        tags: ['tax'],
        summary: 'Income tax of many taxpayers; results in input order, errors per item',
        security,
        body: Type.Array(Type.Record(Type.String(), Type.Unknown()), {
          maxItems: options.batchMax,
        }),
        response: {
          200: fr ? BatchAnswerFr : BatchAnswerEn,
          400: errors,
          401: errors,
          429: errors,
          503: errors,
        },
      },
    },
    async (request, reply) => {
      const checked = request.body.map((item) => checkTaxpayer(item, language, reading));
      if (audit.enabled) {
        const failed = checked.filter((c) => !c.ok).length;
        audit.write(
          auditFields(
            request,
            reply,
            request.taxUser,
            200,
            `"items":${checked.length},"failed":${failed}`,
          ),
          'tax batch computed',
        );
        request.lineWritten = audit.inAppLog;
      }
      if (fr) {
        return {
          réponse: {
            résultats: checked.map((c) =>
              c.ok
                ? { result: resultFr(c.taxpayer, computeTax(admin, c.taxpayer)) }
                : { erreurs: c.errors },
            ),
          },
        };
      }
      return {
        response: {
          results: checked.map((c) =>
            c.ok
              ? { result: resultEn(c.taxpayer, computeTax(admin, c.taxpayer)) }
              : { errors: c.errors },
          ),
        },
      };
    },
  );
}
