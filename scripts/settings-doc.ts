/**
 * Writes docs/settings.md, the table of every setting, from the settings' schema
 * (`npm run docs:settings`). test/config.test.ts fails when the file is not what this writes.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { SETTINGS } from '../src/config.js';
import type { Setting } from '../src/core/settings.js';

export const SETTINGS_DOC = fileURLToPath(new URL('../docs/settings.md', import.meta.url));

const INTRO = `# Settings

<!-- Written by \`npm run docs:settings\` from the settings' schema (src/core/settings.ts and each
module's \`<name>.config.ts\`): edit those, not this file. -->

Every setting has a default, a key in \`agora.yaml\` (in the working directory, or
\`--config FILE\` / \`AGORA_CONFIG\`), an environment variable, and for the common ones a flag of
\`agora serve\` and \`agora migrate\`. Precedence: defaults < \`agora.yaml\` < \`AGORA_*\`
environment < flags. Settings are validated at start, and a bad one is named with where it came
from; an unknown key in \`agora.yaml\` is an error, not a silent typo. A list is written
comma-separated in a variable or a flag (\`AGORA_MODULES=market,tax\`), and as a YAML list or one
such string in \`agora.yaml\`.

\`\`\`yaml
port: 8080
db: postgres://agora:secret@db.internal:5432/agora
db_pool_max: 20
admin_token: change-me
realtime:
  history: 5000
\`\`\`

\`GET /admin/config\` shows the effective configuration with the secrets (marked “secret” below)
masked. \`tax.users\`, a map of user names to password hashes, is set in \`agora.yaml\` only (see
[the tax module](modules/tax.md)).
`;

/** A table cell: pipes and angle brackets (`<hostname>`) are escaped, not read as markup. */
function cell(text: string): string {
  return text.replace(/[|<>]/g, (c) => `\\${c}`);
}

function defaultOf(setting: Setting): string {
  const value = setting.default;
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : `\`${value.join(',')}\``;
  if (value === '') return '(empty)';
  return `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
}

function row(setting: Setting): string {
  const meaning = setting.secret ? `${setting.description} (secret)` : setting.description;
  return `| \`${setting.key}\` | \`${setting.env}\` | ${setting.flag ? `\`--${setting.flag}\`` : ''} | ${cell(
    defaultOf(setting),
  )} | ${cell(meaning)} |`;
}

/** The text of docs/settings.md for these settings, formatted as the repository's Prettier does. */
export async function renderSettingsDoc(settings: readonly Setting[] = SETTINGS): Promise<string> {
  const groups = new Map<string, Setting[]>();
  for (const setting of settings) {
    const section = setting.key.includes('.') ? (setting.key.split('.')[0] ?? '') : '';
    groups.set(section, [...(groups.get(section) ?? []), setting]);
  }
  const parts = [INTRO];
  for (const [section, list] of groups) {
    parts.push(section === '' ? '## Core' : `## \`${section}\``);
    parts.push(
      [
        '| key | environment | flag | default | meaning |',
        '| --- | --- | --- | --- | --- |',
        ...list.map(row),
      ].join('\n'),
    );
  }
  const text = parts.join('\n\n') + '\n';
  const options = (await prettier.resolveConfig(SETTINGS_DOC)) ?? {};
  return prettier.format(text, { ...options, filepath: SETTINGS_DOC });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(SETTINGS_DOC, await renderSettingsDoc());
  process.stdout.write(`wrote ${SETTINGS_DOC}\n`);
}
