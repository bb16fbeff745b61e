/**
 * The parse worker hands over exactly what row-source.ts yields in the thread that reads it:
 * the same events in the same order (records, rejections of every kind, the resume count),
 * the same kept copy, the same refusal, through chunks small enough that the credits run out
 * and are handed back many times. Real files in a temp folder, a real worker thread.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRollcallError } from '../../../../daemon/errors.js';
import { csvRowEvents, type RowEvent, type RowSourceOptions } from '../../../../plugins/watchers/csv/row-source.js';
import { configSchema } from '../../../../plugins/watchers/csv/schema.js';
import { workerRowEvents } from '../../../../plugins/watchers/csv/worker-rows.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rollcall-worker-rows-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(events: AsyncIterable<RowEvent>): Promise<RowEvent[]> {
  const out: RowEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

/** A file with a PIN column, good rows, a broken quote, a misaligned row and a row breaking a rule. */
async function pinFile(name: string): Promise<string> {
  const lines = ['user_id,name,email,pin'];
  for (let i = 1; i <= 60; i++) {
    if (i === 7) lines.push('1007,"Broken "quote,,1234');
    else if (i === 19) lines.push('1019,Too,Many,Cells,4321');
    else if (i === 33) lines.push('1033,Bad Mail,not-an-email,5555');
    else lines.push(`${1000 + i},Row ${i},r${i}@example.com,${100_000 + i}`);
  }
  const path = join(dir, name);
  await writeFile(path, `\uFEFF${lines.join('\r\n')}\r\n`);
  return path;
}

describe('CSV rows read in the parse worker', () => {
  test('the same events, kept copy and resume count as read in this thread', async () => {
    const path = await pinFile('pins.csv');
    const config = configSchema.parse({});
    const options = (keptCopy: string): RowSourceOptions => ({ path, name: 'pins.csv', config, resumeFrom: 5, keptCopy });
    const here = await collect(csvRowEvents(options(join(dir, 'kept-here.csv'))));
    const there = await collect(workerRowEvents(options(join(dir, 'kept-there.csv')), 4, new AbortController().signal));
    assert.deepEqual(there, here);
    const kinds = (kind: RowEvent['kind']): number => here.filter((e) => e.kind === kind).length;
    assert.equal(kinds('header'), 1);
    assert.equal(kinds('rejected'), 3, 'the broken quote, the misaligned row and the bad email');
    assert.equal(kinds('record'), 52);
    assert.deepEqual(here.at(-1), { kind: 'end', resumed: 5 });
    for (const event of here) if (event.kind !== 'header' && event.kind !== 'end') assert.ok(!event.raw.some((cell) => /^1\d{5}$/.test(cell)), 'no PIN in a raw row');
    assert.equal(await readFile(join(dir, 'kept-there.csv'), 'utf8'), await readFile(join(dir, 'kept-here.csv'), 'utf8'));
  });

  test('a refusal comes back as the same RollcallError, after the events before it', async () => {
    const path = join(dir, 'no-id.csv');
    await writeFile(path, 'name,email\r\nAna,ana@example.com\r\n');
    const source: RowSourceOptions = { path, name: 'no-id.csv', config: configSchema.parse({}), resumeFrom: 0 };
    const here = await collect(csvRowEvents(source)).catch((error: unknown) => error);
    const there = await collect(workerRowEvents(source, 4, new AbortController().signal)).catch((error: unknown) => error);
    assert.ok(isRollcallError(here, 'ROLLCALL_ERR_IMPORT_REFUSED'));
    assert.ok(isRollcallError(there, 'ROLLCALL_ERR_IMPORT_REFUSED'));
    assert.equal(there.message, here.message);
    assert.deepEqual(there.detail, here.detail);
  });

  test('an abort ends the read and the worker', async () => {
    const path = await pinFile('abort.csv');
    const controller = new AbortController();
    const seen: RowEvent[] = [];
    const read = (async () => {
      for await (const event of workerRowEvents({ path, name: 'abort.csv', config: configSchema.parse({}), resumeFrom: 0 }, 2, controller.signal)) {
        seen.push(event);
        if (seen.length === 3) controller.abort();
      }
    })();
    await assert.rejects(read, { name: 'AbortError' });
    assert.equal(seen.length, 3);
  });
});
