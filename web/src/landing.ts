/** The landing page: lists the enabled modules from `/api/info`. */

import type { Info } from '../../src/core/web.js';
import { fixNavigation } from './ui.js';

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  return node;
}

function render(info: Info): void {
  const list = document.getElementById('modules');
  if (!list) return;
  list.replaceChildren();
  if (info.modules.length === 0) {
    list.append(element('li', 'No module is enabled on this server.'));
  }
  for (const mod of info.modules) {
    const card = element('li');
    card.dataset.module = mod.name;
    const title = element('h3');
    if (mod.page) {
      const link = element('a', mod.title);
      link.href = mod.page;
      title.append(link);
    } else {
      title.textContent = mod.title;
    }
    card.append(title, element('p', mod.description), element('code', mod.prefix));
    list.append(card);
  }
  const docs = document.getElementById('docs-link');
  if (docs instanceof HTMLAnchorElement) docs.href = info.docs;
  const footer = document.getElementById('version');
  if (footer) footer.textContent = `Agora ${info.version}`;
}

async function main(): Promise<void> {
  try {
    const response = await fetch('/api/info', { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    render((await response.json()) as Info);
  } catch (err) {
    const list = document.getElementById('modules');
    if (list)
      list.replaceChildren(element('li', `Could not load the module list (${String(err)}).`));
  }
}

void main();

void fixNavigation();
