import { Type, type Static } from 'typebox';

/** The tax module's settings (`tax:` in agora.yaml). */
export const TaxConfig = Type.Object(
  {
    /**
     * Users allowed in, as `name: scrypt$…` hashes (`agora tax hash-password` makes one). Empty:
     * the default `admin`/`admin` account, with a loud warning at start.
     */
    users: Type.Record(
      Type.String({ pattern: '^[^:]{1,64}$' }),
      Type.String({ pattern: '^scrypt\\$' }),
      { default: {} },
    ),
    realm: Type.String({
      description:
        'Basic auth realm; empty: Agora tax (Authentication Required in the compatibility profile)',
      maxLength: 100,
      pattern: '^[^"\\\\]*$',
      default: '',
    }),
    /**
     * The original's profile (the Flask tax server): its French keys and texts, its 401 (an HTML
     * body, realm `Authentication Required`), the first of repeated parameters.
     */
    compat: Type.Boolean({
      description:
        "the original client's profile: French keys and texts, its 401 and realm, the first of repeated parameters",
      default: false,
    }),
    /** Answer with the original client's French keys (`réponse`, `impôt`, …). */
    french_keys: Type.Boolean({
      description: "answer with the original client's French keys (réponse, impôt, …)",
      default: false,
    }),
    /** Audit log file (one JSON line per request), besides stdout; empty: stdout only. */
    audit_file: Type.String({
      description: 'audit log file (one JSON line per tax request), besides stdout',
      default: '',
    }),
    /** How long a successful credential check is remembered (hashing is slow on purpose). */
    auth_cache_ms: Type.Integer({
      description: 'how long a successful credential check is remembered',
      minimum: 0,
      maximum: 3_600_000,
      default: 60_000,
    }),
    /** Wrong credentials a client may send per window before it is refused (429). */
    login_failures: Type.Integer({
      description: 'wrong credentials a client may send per window before it is refused (429)',
      minimum: 1,
      maximum: 1_000_000,
      default: 10,
    }),
    /** The window of `login_failures`, in seconds. */
    login_failure_window_s: Type.Integer({
      description: 'the window of tax.login_failures, in seconds',
      minimum: 1,
      maximum: 86_400,
      default: 900,
    }),
    /** Credential checks that may wait for the hashing thread; past it 503 with Retry-After. */
    auth_queue: Type.Integer({
      description: 'credential checks that may wait for the hashing thread (then 503)',
      minimum: 1,
      maximum: 100_000,
      default: 64,
    }),
    /** Most taxpayers in one batch request. */
    batch_max: Type.Integer({
      description: 'most taxpayers in one batch request',
      minimum: 1,
      maximum: 100_000,
      default: 1000,
    }),
  },
  { additionalProperties: false, default: {} },
);
export type TaxConfig = Static<typeof TaxConfig>;
