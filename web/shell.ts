/**
 * The console's shared shell, put into every page at build time by `vite.config.ts`: a skip
 * link, the header with the navigation between modules, the outage banner and the toast region.
 * In the HTML, `<!-- agora:shell market -->` marks where it goes and which entry is current.
 * The links are the default prefixes; `ui.ts` corrects them from `/api/info` (other prefixes,
 * disabled modules).
 */

export const NAV: readonly { name: string; title: string; href: string }[] = [
  { name: 'market', title: 'Market', href: '/market/' },
  { name: 'queue', title: 'Queue', href: '/queue/' },
  { name: 'numbers', title: 'Numbers', href: '/numbers/' },
  { name: 'images', title: 'Images', href: '/images/' },
  { name: 'tax', title: 'Tax', href: '/tax/' },
  { name: 'docs', title: 'API', href: '/docs' },
];

export function shellHtml(current: string): string {
  const links = NAV.map(
    (n) =>
      `<li><a href="${n.href}" data-nav="${n.name}"${n.name === current ? ' aria-current="page"' : ''}>${n.title}</a></li>`,
  ).join('');
  return [
    '<a class="skip" href="#main">Skip to content</a>',
    '<header class="site">',
    `<a class="brand" href="/"${current === 'home' ? ' aria-current="page"' : ''}>Agora</a>`,
    `<nav aria-label="Modules"><ul>${links}</ul></nav>`,
    '</header>',
    '<div id="banner" class="banner" role="alert" hidden></div>',
    '<div id="toasts" class="toasts" role="status" aria-live="polite"></div>',
  ].join('\n');
}

/** Replaces the `<!-- agora:shell <name> -->` marker of a page. */
export function withShell(html: string): string {
  return html.replace(/<!--\s*agora:shell\s+([a-z]+)\s*-->/, (_m, name: string) => shellHtml(name));
}
