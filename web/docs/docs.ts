/**
 * The API reference: `/openapi.json` rendered as plain, accessible HTML, grouped by tag, each
 * route a disclosure with its parameters, body, answers (their shapes written as compact types)
 * and a curl line, and a filter. The realtime protocol is written in the page itself.
 */
import { api, byId, describe, el, fixNavigation } from '../src/ui.js';

interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  default?: unknown;
  additionalProperties?: boolean | Schema;
}
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Schema;
}
interface Operation {
  tags?: string[];
  summary?: string;
  description?: string;
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<
    string,
    { description?: string; content?: Record<string, { schema?: Schema }> }
  >;
  security?: Record<string, unknown>[];
}
interface OpenApi {
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** What a schema allows, in a few words: `1 … 100`, `≤ 200 chars`, `^[0-9]{16}$`. */
function limits(s: Schema): string {
  const parts: string[] = [];
  if (s.minimum !== undefined || s.maximum !== undefined)
    parts.push(`${String(s.minimum ?? '…')} … ${String(s.maximum ?? '…')}`);
  if (s.minLength !== undefined || s.maxLength !== undefined)
    parts.push(`${String(s.minLength ?? 0)}–${String(s.maxLength ?? '∞')} chars`);
  if (s.pattern) parts.push(s.pattern);
  if (s.format) parts.push(s.format);
  if (s.default !== undefined) parts.push(`default ${JSON.stringify(s.default)}`);
  return parts.join(', ');
}

/** A schema as a compact type, the way a TypeScript reader would write it. */
function typeOf(s: Schema | undefined, indent = ''): string {
  if (!s) return 'unknown';
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  const variants = s.anyOf ?? s.oneOf;
  if (variants) return variants.map((v) => typeOf(v, indent)).join(' | ');
  const type = Array.isArray(s.type) ? s.type.join(' | ') : s.type;
  if (type === 'array') return `${typeOf(s.items, indent)}[]`;
  if (type === 'object' || s.properties) {
    const props = Object.entries(s.properties ?? {});
    if (props.length === 0) return 'object';
    const inner = `${indent}  `;
    const lines = props.map(([name, p]) => {
      const optional = (s.required ?? []).includes(name) ? '' : '?';
      const notes = [limits(p), p.description].filter(Boolean).join(' — ');
      return `${inner}${name}${optional}: ${typeOf(p, inner)}${notes ? `  // ${notes}` : ''}`;
    });
    return `{\n${lines.join('\n')}\n${indent}}`;
  }
  return type ?? 'unknown';
}

function schemaOf(content: Record<string, { schema?: Schema }> | undefined): Schema | undefined {
  if (!content) return undefined;
  return (content['application/json'] ?? Object.values(content)[0])?.schema;
}

function curl(method: string, path: string, op: Operation): string {
  const parts = ['curl'];
  if (method !== 'get') parts.push(`-X ${method.toUpperCase()}`);
  const schemes = (op.security ?? []).flatMap((s) => Object.keys(s));
  if (schemes.includes('adminToken')) parts.push('-H "Authorization: Bearer $AGORA_ADMIN_TOKEN"');
  if (schemes.includes('basicAuth')) parts.push('-u user:password');
  if (op.requestBody) parts.push(`-H 'content-type: application/json' -d '{…}'`);
  parts.push(`"${location.origin}${path.replace(/\{(\w+)\}/g, ':$1')}"`);
  return parts.join(' ');
}

function operation(method: string, path: string, op: Operation): HTMLDetailsElement {
  const body = el('div');
  if (op.description) body.append(el('p', {}, op.description));
  const schemes = (op.security ?? []).flatMap((s) => Object.keys(s));
  if (schemes.length > 0)
    body.append(
      el(
        'p',
        {},
        el('strong', {}, 'Authentication: '),
        schemes
          .map((s) =>
            s === 'adminToken' ? 'admin token (Bearer)' : s === 'basicAuth' ? 'HTTP Basic' : s,
          )
          .join(', '),
      ),
    );
  const params = op.parameters ?? [];
  if (params.length > 0) {
    body.append(
      el('h4', {}, 'Parameters'),
      el(
        'div',
        { className: 'scroll', tabIndex: 0, attrs: { role: 'region', 'aria-label': 'Parameters' } },
        el(
          'table',
          {},
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              el('th', { scope: 'col' }, 'Name'),
              el('th', { scope: 'col' }, 'In'),
              el('th', { scope: 'col' }, 'Type'),
              el('th', { scope: 'col' }, 'Description'),
            ),
          ),
          el(
            'tbody',
            {},
            ...params.map((p) =>
              el(
                'tr',
                {},
                el('td', {}, el('code', {}, p.name), p.required ? ' (required)' : ''),
                el('td', {}, p.in),
                el(
                  'td',
                  {},
                  el('code', {}, typeOf(p.schema)),
                  p.schema ? ` ${limits(p.schema)}` : '',
                ),
                el('td', {}, p.description ?? ''),
              ),
            ),
          ),
        ),
      ),
    );
  }
  const request = schemaOf(op.requestBody?.content);
  if (request)
    body.append(el('h4', {}, 'Body (JSON)'), el('pre', {}, el('code', {}, typeOf(request))));
  const responses = Object.entries(op.responses ?? {});
  if (responses.length > 0) {
    body.append(el('h4', {}, 'Answers'));
    for (const [status, r] of responses) {
      const schema = schemaOf(r.content);
      const described =
        r.description && r.description !== 'Default Response' ? ` — ${r.description}` : '';
      body.append(el('p', {}, el('strong', {}, status), described));
      if (schema) body.append(el('pre', {}, el('code', {}, typeOf(schema))));
    }
  }
  body.append(el('h4', {}, 'Try it'), el('pre', {}, el('code', {}, curl(method, path, op))));
  const id = `${method}-${path}`.replace(/[^A-Za-z0-9]+/g, '-');
  const details = el(
    'details',
    {
      className: 'op',
      id,
      dataset: {
        search: `${method} ${path} ${op.summary ?? ''} ${(op.tags ?? []).join(' ')}`.toLowerCase(),
      },
    },
    el(
      'summary',
      {},
      el(
        'span',
        { className: 'method', dataset: { method: method.toUpperCase() } },
        method.toUpperCase(),
      ),
      el('span', { className: 'path' }, path),
      el('span', { className: 'muted' }, op.summary ?? ''),
    ),
    body,
  );
  if (location.hash === `#${id}`) details.open = true;
  return details;
}

function render(doc: OpenApi): void {
  const groups = new Map<string, HTMLDetailsElement[]>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = op.tags?.[0] ?? 'other';
      const list = groups.get(tag) ?? [];
      list.push(operation(method, path, op));
      groups.set(tag, list);
    }
  }
  const routes = byId('routes', HTMLElement);
  const toc = el('ul');
  for (const [tag, ops] of groups) {
    const id = `tag-${tag}`;
    toc.append(el('li', {}, el('a', { href: `#${id}` }, tag)));
    routes.append(el('section', { dataset: { tag } }, el('h3', { id }, tag), ...ops));
  }
  byId('toc', HTMLElement).append(toc);
  const total = [...groups.values()].reduce((n, ops) => n + ops.length, 0);
  const count = byId('count', HTMLElement);
  count.textContent = `${String(total)} routes (Agora ${doc.info.version}).`;
  const filter = byId('filter', HTMLInputElement);
  filter.addEventListener('input', () => {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const section of routes.querySelectorAll<HTMLElement>('section[data-tag]')) {
      let any = false;
      for (const op of section.querySelectorAll<HTMLElement>('details.op')) {
        const match = words.every((w) => (op.dataset.search ?? '').includes(w));
        op.hidden = !match;
        if (match) shown++;
        any ||= match;
      }
      section.hidden = !any;
    }
    count.textContent =
      words.length === 0
        ? `${String(total)} routes.`
        : `${String(shown)} of ${String(total)} routes match.`;
  });
  routes.dataset.ready = '';
}

api<OpenApi>('/openapi.json')
  .then(render)
  .catch((err: unknown) => {
    byId('count', HTMLElement).textContent = `Could not load the routes: ${describe(err)}`;
    byId('routes', HTMLElement).dataset.ready = '';
  });
void fixNavigation();
