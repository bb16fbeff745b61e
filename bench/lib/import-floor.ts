/**
 * The raw floor of the import benchmark: what the libraries alone cost to put a CSV into
 * LevelDB. csv-parse's stream (columns taken by header, the BOM handled) into classic-level
 * batches of 2,000 puts (key the first column, value the row as JSON). No validation, no
 * merge, no feed, no checkpoint, and deliberately no rollcall code: nothing in this file
 * imports from the project (bench/README.md says how that is checked).
 */
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
// `level` is classic-level on Node (the package the level store uses).
import { Level } from 'level';

export const FLOOR_BATCH = 2000;

/** Streams `file` into a new LevelDB at `location`; resolves with the rows written and the seconds it took. */
export async function rawFloor(file: string, location: string): Promise<{ rows: number; seconds: number; stored: number }> {
  const db = new Level<string, string>(location, { valueEncoding: 'utf8' });
  await db.open();
  const t0 = performance.now();
  let rows = 0;
  let ops: { type: 'put'; key: string; value: string }[] = [];
  const parser = createReadStream(file).pipe(parse({ columns: true, bom: true }));
  for await (const record of parser as AsyncIterable<Record<string, string>>) {
    const key = Object.values(record)[0] ?? '';
    ops.push({ type: 'put', key, value: JSON.stringify(record) });
    rows++;
    if (ops.length >= FLOOR_BATCH) {
      await db.batch(ops);
      ops = [];
    }
  }
  if (ops.length > 0) await db.batch(ops);
  const seconds = (performance.now() - t0) / 1000;
  let stored = 0;
  for await (const _ of db.keys()) stored++;
  await db.close();
  return { rows, seconds, stored };
}
