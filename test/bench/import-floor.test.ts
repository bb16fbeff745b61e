/**
 * The import benchmark's raw floor: it must hold no rollcall code (otherwise the ratio
 * measures rollcall against itself, as the old baseline did), and it must store every row
 * of a BioStar CSV, BOM and header included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { writeBiostarCsv } from '../../bench/lib/biostar-csv.js';
import { rawFloor } from '../../bench/lib/import-floor.js';
import { repoRoot } from '../../bench/lib/paths.js';

test('the raw floor imports only node: modules, csv-parse and level', async () => {
  const source = await readFile(join(repoRoot, 'bench', 'lib', 'import-floor.ts'), 'utf8');
  const imported = [...source.matchAll(/^import\s[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
  assert.ok(imported.length > 0, 'the imports were found');
  for (const name of imported) assert.ok(name.startsWith('node:') || name === 'csv-parse' || name === 'level', `the floor imports ${name}`);
});

test('the raw floor stores every row of a BioStar CSV under its user ID, columns by header', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-floor-test-'));
  try {
    const file = join(dir, 'users.csv');
    await writeBiostarCsv(file, 2500);
    const result = await rawFloor(file, join(dir, 'db'));
    assert.equal(result.rows, 2500);
    assert.equal(result.stored, 2500);
    const db = new Level<string, string>(join(dir, 'db'), { valueEncoding: 'utf8' });
    try {
      const first = JSON.parse(await db.get('100000') ?? 'null') as Record<string, string> | null;
      assert.equal(first?.['user_id'], '100000', 'the BOM is not part of the first header');
      assert.equal(first?.['csn'], '1000000');
    } finally {
      await db.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
