/**
 * The tax page: the household and the credentials go to the tax API with `explain=true`; the
 * result shows every step the engine took. What the server refuses is shown as it said it, next
 * to the field it is about; missing and wrong credentials are told apart; a result whose inputs
 * have changed since is marked stale.
 */
import type { ResultEn } from '../../../src/modules/tax/tax.schemas.js';
import type { TaxExplanation } from '../../../src/modules/tax/tax.engine.js';
import {
  api,
  ApiError,
  busy,
  byId,
  describe,
  fixNavigation,
  format,
  setText,
} from '../../src/ui.js';

interface Answer {
  response?: { result?: ResultEn; explanation?: TaxExplanation; errors?: string[] };
  réponse?: { result?: Record<string, unknown>; explanation?: TaxExplanation; erreurs?: string[] };
}

const base = location.pathname.replace(/\/+$/, '');
const euros = (n: number): string => format.money(n, 'EUR');
const input = (id: string): HTMLInputElement => byId(id, HTMLInputElement);

/** UTF-8 safe base64 (btoa alone takes Latin-1 only). */
function base64(value: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(value)));
}

function clearErrors(): void {
  for (const id of ['children', 'salary', 'user', 'password'])
    input(id).removeAttribute('aria-invalid');
  for (const id of ['children-error', 'salary-error', 'auth-error', 'errors']) setText(id, '');
}

/** The server's messages, each next to the field it names (the rest under the form). */
function showErrors(messages: string[]): void {
  const rest: string[] = [];
  for (const message of messages) {
    const field = ['children', 'salary'].find((f) => message.startsWith(f));
    if (field) {
      setText(`${field}-error`, message);
      input(field).setAttribute('aria-invalid', 'true');
    } else rest.push(message);
  }
  setText('errors', rest.join('\n'));
  const first = document.querySelector<HTMLInputElement>('input[aria-invalid="true"]');
  first?.focus();
}

function showResult(result: ResultEn, e: TaxExplanation | undefined): void {
  const section = byId('result', HTMLElement);
  section.hidden = false;
  delete section.dataset.stale;
  byId('stale', HTMLElement).hidden = true;
  setText('tax', euros(result.tax));
  setText('rate', format.percent(result.rate));
  setText('surcharge', euros(result.surcharge));
  setText('discount', euros(result.discount));
  setText('reduction', euros(result.reduction));
  setText(
    'summary',
    `${result.married === 'yes' ? 'A couple' : 'One adult'}, ${format.number(result.children)} child${result.children === 1 ? '' : 'ren'}, ${euros(result.salary)} a year.`,
  );
  if (e) {
    setText('shares', format.number(e.shares));
    setText('taxable', euros(e.taxable_income));
    setText('quotient', euros(e.quotient));
    setText(
      'bracket',
      `${euros(e.bracket.from)} – ${e.bracket.to === null ? 'and above' : euros(e.bracket.to)}`,
    );
    setText('average', format.percent(e.average_rate));
    byId('steps', HTMLOListElement).replaceChildren(
      ...e.steps.map((step) => {
        const li = document.createElement('li');
        li.textContent = step;
        return li;
      }),
    );
  }
  byId('result-title', HTMLElement).focus();
}

async function compute(): Promise<void> {
  clearErrors();
  const married =
    document.querySelector<HTMLInputElement>('input[name="married"]:checked')?.value ?? 'no';
  // Sent as typed: the server's validation speaks for "12a34", not the browser's.
  const query = new URLSearchParams({
    married,
    children: input('children').value.trim(),
    salary: input('salary').value.trim(),
    explain: 'true',
  });
  const user = input('user').value.trim();
  const password = input('password').value;
  const headers: Record<string, string> = { 'x-requested-with': 'XMLHttpRequest' };
  if (user !== '' || password !== '')
    headers.authorization = `Basic ${base64(`${user}:${password}`)}`;
  try {
    const body = await api<Answer>(`${base}/?${query.toString()}`, { headers });
    const result = body.response?.result;
    if (result) showResult(result, body.response?.explanation);
  } catch (err) {
    byId('result', HTMLElement).hidden = true;
    if (!(err instanceof ApiError) || err.status === 0) {
      setText('errors', describe(err));
      return;
    }
    const answer = err.body as Answer | undefined;
    const messages = answer?.response?.errors ?? answer?.réponse?.erreurs ?? [err.message];
    if (err.status === 401 || err.status === 429) {
      setText('auth-error', messages.join(' '));
      const field = user === '' ? 'user' : 'password';
      input(field).setAttribute('aria-invalid', 'true');
      input(field).focus();
    } else showErrors(messages);
  }
}

byId('tax-form', HTMLFormElement).addEventListener('submit', (e) => {
  e.preventDefault();
  const button = byId('tax-form', HTMLFormElement).querySelector<HTMLButtonElement>(
    'button[type="submit"]',
  );
  if (button) void busy(button, compute);
});
// A result stays, marked stale, once its inputs change.
byId('tax-form', HTMLFormElement).addEventListener('input', (e) => {
  const target = e.target;
  if (target instanceof HTMLInputElement && ['user', 'password'].includes(target.id)) return;
  const section = byId('result', HTMLElement);
  if (section.hidden || section.dataset.stale !== undefined) return;
  section.dataset.stale = '';
  byId('stale', HTMLElement).hidden = false;
});
byId('result-title', HTMLElement).tabIndex = -1;

// The demo account is hinted only while it works.
void api<{ active: boolean; user?: string; password?: string }>(`${base}/demo-account`)
  .then((demo) => {
    const hint = byId('demo-hint', HTMLElement);
    hint.hidden = !demo.active;
    if (demo.active && demo.user && demo.password) {
      hint.textContent = `Demo account: ${demo.user} / ${demo.password} (until users are configured).`;
      if (input('user').value === '') input('user').value = demo.user;
    }
  })
  .catch(() => undefined);
void fixNavigation();
