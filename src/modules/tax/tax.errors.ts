/**
 * Every error the tax module answers with besides the taxpayer's (checked in tax.validation.ts,
 * in the original's order): the union of their codes, and a constructor for each, in English or
 * in the original client's French.
 */
import { AppError } from '../../core/errors.js';
import type { Language } from './tax.validation.js';

export type TaxErrorCode =
  'TAX_AUTH_REQUIRED' | 'TAX_AUTH_FAILED' | 'TAX_TOO_MANY_FAILED_LOGINS' | 'TAX_AUTH_BUSY';

export type TaxError = AppError<TaxErrorCode>;

/** A 401, with the Basic challenge unless the client asked not to get one (`challenge` null). */
const unauthorized = (
  code: 'TAX_AUTH_REQUIRED' | 'TAX_AUTH_FAILED',
  message: string,
  challenge: string | null,
): TaxError =>
  new AppError(
    code,
    401,
    message,
    undefined,
    challenge === null ? {} : { 'www-authenticate': challenge },
  );

export const TaxErrors = {
  /** `challenge`: the Basic challenge, which scripts that ask not to get one do not get. */
  authRequired: (language: Language, challenge: string | null): TaxError =>
    unauthorized(
      'TAX_AUTH_REQUIRED',
      language === 'fr' ? 'authentification requise' : 'authentication required',
      challenge,
    ),
  /** Credentials were sent, and they are wrong: said apart from none sent at all. */
  authFailed: (language: Language, challenge: string | null): TaxError =>
    unauthorized(
      'TAX_AUTH_FAILED',
      language === 'fr' ? 'utilisateur ou mot de passe incorrect' : 'wrong user name or password',
      challenge,
    ),
  tooManyFailedLogins: (language: Language, retryAfterS: number): TaxError =>
    new AppError(
      'TAX_TOO_MANY_FAILED_LOGINS',
      429,
      language === 'fr'
        ? 'trop d’échecs d’authentification ; réessayez plus tard'
        : 'too many failed logins from this client; try again later',
      undefined,
      { 'retry-after': String(retryAfterS) },
    ),
  authBusy: (language: Language): TaxError =>
    new AppError(
      'TAX_AUTH_BUSY',
      503,
      language === 'fr'
        ? 'trop de vérifications en cours ; réessayez'
        : 'too many credential checks under way; try again',
      undefined,
      { 'retry-after': '1' },
    ),
};
