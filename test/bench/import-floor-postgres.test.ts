/**
 * The PostgreSQL import benchmark's raw floor: it must hold no rollcall code (otherwise the
 * ratio measures rollcall against itself), and it must store every row of a BioStar CSV,
 * BOM and header included, in multi-row INSERTs of 2,000 rows.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBiostarCsv } from '../../bench/lib/biostar-csv.js';
import { PG_FLOOR_BATCH, rawPostgresFloor } from '../../bench/lib/import-floor-postgres.js';
import { repoRoot } from '../../bench/lib/paths.js';
import { postgresSkipReason, startPostgresServer } from '../helpers/postgres-server.js';

test('the PostgreSQL raw floor imports only node: modules, csv-parse and pg', async () => {
  const source = await readFile(join(repoRoot, 'bench', 'lib', 'import-floor-postgres.ts'), 'utf8');
  const imported = [...source.matchAll(/^import\s[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
  assert.ok(imported.length > 0, 'the imports were found');
  for (const name of imported) assert.ok(name.startsWith('node:') || name === 'csv-parse' || name === 'pg', `the floor imports ${name}`);
});

const skip = postgresSkipReason();
if (skip !== undefined) {
  test('the PostgreSQL raw floor stores every row', { skip }, () => {});
} else {
  const server = await startPostgresServer();
  after(() => server.stop());

  test('the PostgreSQL raw floor stores every row of a BioStar CSV under its user ID, in INSERTs of 2,000', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rollcall-pg-floor-test-'));
    try {
      const file = join(dir, 'users.csv');
      await writeBiostarCsv(file, 4500);
      const target = { host: server.socketDir, port: server.port, user: server.user, database: server.database, table: 'floor_test' };
      const result = await rawPostgresFloor(file, target);
      assert.equal(result.rows, 4500);
      assert.equal(result.stored, 4500);
      const first = await server.query("SELECT record FROM floor_test WHERE id = convert_to('100000', 'UTF8')");
      const record = first.rows[0]?.record as Record<string, string> | undefined;
      assert.equal(record?.['user_id'], '100000', 'the BOM is not part of the first header');
      assert.equal(record?.['csn'], '1000000');
      // Each INSERT is its own transaction: rows of one batch share its xmin, so there are ⌈4500 / 2000⌉ of them.
      const batches = await server.query('SELECT count(DISTINCT xmin::text) AS n FROM floor_test');
      assert.equal(Number(batches.rows[0]!.n), Math.ceil(4500 / PG_FLOOR_BATCH));
      // Run again: the table is made anew, not appended to.
      const again = await rawPostgresFloor(file, target);
      assert.equal(again.stored, 4500);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
