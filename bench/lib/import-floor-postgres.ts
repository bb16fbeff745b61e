/**
 * The raw floor of the PostgreSQL import benchmark: what the libraries alone cost to put a
 * CSV into PostgreSQL. csv-parse's stream (columns taken by header, the BOM handled) into
 * multi-row INSERTs of 2,000 rows, each its own transaction, with node-postgres, into a
 * table like the store's `users` (id bytea primary key, record json): the key the first
 * column, the record the row as JSON. No validation, no merge, no feed, no checkpoint, and
 * deliberately no rollcall code: nothing in this file imports from the project
 * (test/bench/import-floor-postgres.test.ts checks it).
 */
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import pg from 'pg';

export const PG_FLOOR_BATCH = 2000;

export interface PgFloorTarget {
  host: string;
  port: number;
  user: string;
  database: string;
  /** A table of this name is made (dropped first if it exists). */
  table: string;
}

/** One multi-row INSERT of `rows` (id, record) pairs: ($1, $2), ($3, $4), ... */
function insertSql(table: string, rows: number): string {
  const values: string[] = [];
  for (let i = 0; i < rows; i++) values.push(`($${2 * i + 1}, $${2 * i + 2})`);
  return `INSERT INTO ${table} (id, record) VALUES ${values.join(', ')}`;
}

/** Streams `file` into a new table; resolves with the rows written, the seconds it took and the rows the table holds after. */
export async function rawPostgresFloor(file: string, target: PgFloorTarget): Promise<{ rows: number; seconds: number; stored: number }> {
  const client = new pg.Client({ host: target.host, port: target.port, user: target.user, database: target.database });
  await client.connect();
  try {
    const table = client.escapeIdentifier(target.table);
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    await client.query(`CREATE TABLE ${table} (id bytea PRIMARY KEY, record json NOT NULL)`);
    const fullBatch = insertSql(table, PG_FLOOR_BATCH);
    const t0 = performance.now();
    let rows = 0;
    let params: unknown[] = [];
    const parser = createReadStream(file).pipe(parse({ columns: true, bom: true }));
    for await (const record of parser as AsyncIterable<Record<string, string>>) {
      params.push(Buffer.from(Object.values(record)[0] ?? '', 'utf8'), JSON.stringify(record));
      rows++;
      if (params.length === 2 * PG_FLOOR_BATCH) {
        await client.query(fullBatch, params);
        params = [];
      }
    }
    if (params.length > 0) await client.query(insertSql(table, params.length / 2), params);
    const seconds = (performance.now() - t0) / 1000;
    const counted = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
    return { rows, seconds, stored: Number(counted.rows[0]!.n) };
  } finally {
    await client.end();
  }
}
