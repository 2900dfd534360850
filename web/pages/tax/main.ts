/** The tax page: a form that asks the tax API and shows the result and how it was reached. */
import type { ResultEn } from '../../../src/modules/tax/tax.schemas.js';
import { fixNavigation } from '../../src/ui.js';

const base = location.pathname.replace(/\/+$/, '');

function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el;
}
/** UTF-8 safe base64 (btoa alone takes Latin-1 only). */
function base64(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

const value = (id: string): string => ($(id) as HTMLInputElement).value.trim();

async function compute(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const married =
    document.querySelector<HTMLInputElement>('input[name="married"]:checked')?.value ?? 'no';
  const query = new URLSearchParams({
    married,
    children: value('children'),
    salary: value('salary'),
  });
  const res = await fetch(`${base}/?${query.toString()}`, {
    headers: {
      accept: 'application/json',
      'x-requested-with': 'XMLHttpRequest',
      authorization: `Basic ${base64(`${value('user')}:${value('password')}`)}`,
    },
  });
  const body = (await res.json()) as {
    response?: { result?: ResultEn; errors?: string[] };
    réponse?: { result?: Record<string, number | string>; erreurs?: string[] };
  };
  const result = body.response?.result;
  const errors = body.response?.errors ?? body.réponse?.erreurs;
  $('errors').textContent = errors ? errors.join('\n') : '';
  $('result').hidden = !result;
  if (!result) return;
  $('tax').textContent = result.tax.toLocaleString('fr-FR');
  $('rate').textContent = `${Math.round(result.rate * 100)} %`;
  $('surcharge').textContent = `${result.surcharge.toLocaleString('fr-FR')} €`;
  $('discount').textContent = `${result.discount.toLocaleString('fr-FR')} €`;
  $('reduction').textContent = `${result.reduction.toLocaleString('fr-FR')} €`;
}

($('tax-form') as HTMLFormElement).addEventListener('submit', (e) => {
  void compute(e);
});

void fixNavigation();
