import { describe, expect, it } from 'vitest';
import { tempDir } from '../helper.js';
import { runCli } from '../process.js';
import SQLite from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

describe('agora market setup', () => {
  it('seeds, resets with a stock amount, and refuses bad arguments', async () => {
    const dir = tempDir();
    const first = await runCli(['market', 'setup', '--help']);
    expect(first.stdout).toMatch(/reset/);

    const seeded = await runCli(['market', 'setup'], { AGORA_DATA_DIR: dir });
    expect(seeded.code).toBe(0);
    expect(seeded.stdout).toContain('market setup: inserted 10');
    const again = await runCli(['market', 'setup'], { AGORA_DATA_DIR: dir });
    expect(again.stdout).toContain('market setup: inserted 0');

    const reset = await runCli(['market', 'setup', 'reset', '2'], { AGORA_DATA_DIR: dir });
    expect(reset.code).toBe(0);
    const db = new SQLite(path.join(dir, 'agora.db'), { readonly: true });
    const rows = db
      .prepare('select id, description, price, quantity from market_products order by id')
      .all();
    db.close();
    expect(rows).toHaveLength(10);
    expect(rows[0]).toEqual({ id: 1, description: 'apple', price: 10, quantity: 2 });
    expect(rows[9]).toEqual({ id: 10, description: 'beer', price: 55, quantity: 2 });

    const bad = await runCli(['market', 'setup', 'reset', 'many'], { AGORA_DATA_DIR: dir });
    expect(bad.code).toBe(64);
  });

  it('takes --db, --data-dir and --config like the server, and names a bad one', async () => {
    const dir = tempDir();
    const viaDb = await runCli(['market', 'setup', '--db', `sqlite:${path.join(dir, 'a.db')}`]);
    expect(viaDb.code).toBe(0);
    expect(viaDb.stdout).toContain('market setup: inserted 10');
    const viaDir = await runCli(['market', 'setup', '3', '--data-dir', path.join(dir, 'b')]);
    expect(viaDir.code).toBe(0);
    const db = new SQLite(path.join(dir, 'b', 'agora.db'), { readonly: true });
    expect(db.prepare('select count(*) as n from market_products').get()).toEqual({ n: 10 });
    db.close();
    writeFileSync(path.join(dir, 'c.yaml'), `db: sqlite:${path.join(dir, 'c.db')}\n`);
    const viaConfig = await runCli(['market', 'setup', '--config', path.join(dir, 'c.yaml')]);
    expect(viaConfig.code).toBe(0);
    const wrong = await runCli(['market', 'setup', '--db', 'oracle://x']);
    expect(wrong.code).toBe(64);
    expect(wrong.stderr).toMatch(/Invalid setting "db" \(from --db\)/);
  });
});
