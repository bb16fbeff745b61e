import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isRollcallError } from '../../../../daemon/errors.js';
import { decodeText } from '../../../../plugins/watchers/csv/decode.js';
import { readCsv, type ReadEvent, type ReadOptions } from '../../../../plugins/watchers/csv/reader.js';
import { chunked, collect, encodeVariant, fixtureText, propertyRuns, VARIANTS } from './fixtures.js';

const defaults: ReadOptions = { delimiter: ',', startRow: 2 };

async function read(text: string, options: Partial<ReadOptions> = {}, chunkSize = 1024): Promise<ReadEvent[]> {
  const bytes = Buffer.from(text, 'utf8');
  return collect(readCsv(decodeText(chunked(bytes, chunkSize)), { ...defaults, ...options }));
}

/** Events as short strings: "row 2: a|b", "error 3: reason". */
function brief(events: ReadEvent[]): string[] {
  return events.map((e) => (e.kind === 'error' ? `error ${e.row}` : `${e.kind} ${e.row}: ${e.cells.join('|')}`));
}

describe('readCsv', () => {
  test('reads the header and rows with their line numbers, RFC 4180 quoting included', async () => {
    const events = await read(fixtureText('basic.csv'));
    assert.equal(events[0]!.kind, 'header');
    assert.equal(events[0]!.cells[11], 'Remarks');
    const rows = events.filter((e) => e.kind === 'row');
    assert.deepEqual(rows.map((r) => r.row), [2, 3, 4, 5]);
    assert.equal(rows[1]!.cells[1], 'Park, Ji-woo');
    assert.equal(rows[2]!.cells[1], 'Dwayne "Rock" Lee');
    assert.equal(rows[2]!.cells[11], 'quoted, with comma');
    assert.equal(rows[3]!.cells[1], '김민준');
  });

  for (const variant of VARIANTS) {
    test(`fixture rows are the same in ${variant.label}`, async () => {
      const expected = brief(await read(fixtureText('errors.csv')));
      for (const size of [3, 4096]) {
        const bytes = encodeVariant(fixtureText('errors.csv'), variant);
        const events = await collect(readCsv(decodeText(chunked(bytes, size)), defaults));
        assert.deepEqual(brief(events), expected, `chunk size ${size}`);
      }
    });
  }

  test('bad rows are reported on their lines and the good rows around them are kept', async () => {
    const events = await read(fixtureText('errors.csv'));
    assert.deepEqual(brief(events), [
      'header 1: user_id|name|csn',
      'row 2: 3001|Good One|111',
      'error 3',
      'error 4',
      'row 5: 3004|Good Two|333',
      'error 6',
      'error 7',
      'row 8: 3007|Good Three|666',
      'error 9',
      'row 10: 3009|Good Four|777',
    ]);
    const reasons = events.flatMap((e) => (e.kind === 'error' ? [e.reason] : []));
    assert.match(reasons[0]!, /4 cells but the header has 3/);
    assert.match(reasons[1]!, /closing quote/);
    assert.match(reasons[2]!, /quote inside an unquoted value/);
    assert.match(reasons[3]!, /closing quote/);
    assert.match(reasons[4]!, /2 cells but the header has 3/);
    // A row split into cells keeps them for the error CSV; an unreadable one has none.
    const errors = events.filter((e) => e.kind === 'error');
    assert.deepEqual(errors[0]!.cells, ['3002', 'Too', 'Many', 'Cells']);
    assert.deepEqual(errors[1]!.cells, []);
  });

  test('an unterminated quote that runs to the end of the file loses only its own row', async () => {
    const text = 'id,name\n1,ok\n2,"never closed\n3,fine\n4,also fine\n';
    assert.deepEqual(brief(await read(text, {}, 5)), ['header 1: id|name', 'row 2: 1|ok', 'error 3', 'row 4: 3|fine', 'row 5: 4|also fine']);
    const reason = (await read(text)).find((e) => e.kind === 'error');
    assert.match(reason!.kind === 'error' ? reason!.reason : '', /never closed/);
  });

  test('an unterminated quote is cut off at maxRecordBytes, so memory stays bounded', async () => {
    const filler = Array.from({ length: 2000 }, (_, i) => `${i + 10},row ${i}`).join('\n');
    const text = `id,name\n1,"open\n${filler}\n`;
    const events = await read(text, { maxRecordBytes: 256 }, 64);
    assert.deepEqual(brief(events.slice(0, 3)), ['header 1: id|name', 'error 2', 'row 3: 10|row 0']);
    assert.match((events[1] as { reason: string }).reason, /longer than 256 bytes/);
    assert.equal(events.filter((e) => e.kind === 'row').length, 2000);
    assert.equal(events.at(-1)!.row, 2002);
  });

  test('a row too long on a single line is skipped to its end', async () => {
    const text = `id,name\n1,${'x'.repeat(5000)}\n2,ok\n`;
    for (const size of [7, 100, 9000]) {
      assert.deepEqual(brief(await read(text, { maxRecordBytes: 1000 }, size)), ['header 1: id|name', 'error 2', 'row 3: 2|ok'], `chunk ${size}`);
    }
  });

  test('recovery after a broken row keeps counting CRLF lines right across chunk edges', async () => {
    const text = 'id,name\r\n1,a"b\r\n2,ok\r\n3,"multi\r\nline"\r\n4,x"\r\n5,end\r\n';
    for (const size of [1, 2, 3, 5, 8, 1000]) {
      assert.deepEqual(
        brief(await read(text, {}, size)),
        ['header 1: id|name', 'error 2', 'row 3: 2|ok', 'row 4: 3|multi\r\nline', 'error 6', 'row 7: 5|end'],
        `chunk ${size}`,
      );
    }
  });

  test('CR-only line ends and mixed line ends are read', async () => {
    assert.deepEqual(brief(await read('id,name\r1,a\r2,b')), ['header 1: id|name', 'row 2: 1|a', 'row 3: 2|b']);
    assert.deepEqual(brief(await read('id,name\r\n1,a\n2,b\r\n')), ['header 1: id|name', 'row 2: 1|a', 'row 3: 2|b']);
  });

  test('a quoted cell with line breaks counts its lines', async () => {
    const events = await read('id,name\n1,"a\nb\nc"\n2,d\n');
    assert.deepEqual(brief(events), ['header 1: id|name', 'row 2: 1|a\nb\nc', 'row 5: 2|d']);
  });

  test('startRow skips the lines above the header; blank rows are skipped but keep their line', async () => {
    const events = await read(fixtureText('preamble.csv'), { startRow: 4 });
    assert.deepEqual(brief(events), ['header 3: user_id|name|csn', 'row 4: 4001|First|101', 'row 6: 4002|Second|102']);
  });

  test('empty trailing cells beyond the header are tolerated, content there is not', async () => {
    const events = await read('id,name\n1,a,,\n2,b,,x\n');
    assert.deepEqual(brief(events), ['header 1: id|name', 'row 2: 1|a', 'error 3']);
  });

  test('another delimiter', async () => {
    assert.deepEqual(brief(await read('id;name\n1;"a;b"\n', { delimiter: ';' })), ['header 1: id|name', 'row 2: 1|a;b']);
  });

  const refusals: { name: string; text: string; startRow?: number; says: RegExp }[] = [
    { name: 'an empty file', text: '', says: /no header row at line 1/ },
    { name: 'a file shorter than startRow', text: 'a,b\n', startRow: 5, says: /no header row at line 4/ },
    { name: 'an unreadable header', text: 'id,na"me\n1,a\n', says: /header row \(line 1\) cannot be read/ },
  ];
  for (const row of refusals) {
    test(`refuses ${row.name}`, async () => {
      await assert.rejects(read(row.text, row.startRow ? { startRow: row.startRow } : {}), (error: unknown) => {
        assert.ok(isRollcallError(error, 'ROLLCALL_ERR_IMPORT_REFUSED'));
        assert.match(error.message, row.says);
        return true;
      });
    });
  }

  test('reasons never quote cell values (a PIN may be among them)', async () => {
    const events = await read('id,pin\n1,12"34\n2,"56"78\n3,"9012\n');
    for (const event of events) {
      if (event.kind !== 'error') continue;
      assert.doesNotMatch(event.reason, /12|34|56|78|9012/);
    }
  });

  // ---------------------------------------------------------------------------------
  // Properties

  test('property: arbitrary text never crashes the reader', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: fc.constantFrom('a', '1', ',', '"', '\n', '\r', ' ', 'é', ';'), maxLength: 80 }),
        fc.integer({ min: 1, max: 16 }),
        async (text, size) => {
          let last = 0;
          try {
            for await (const event of readCsv(decodeText(chunked(Buffer.from(text), size)), { ...defaults, maxRecordBytes: 32 })) {
              assert.ok(event.row > last || (event.kind === 'header' && event.row >= 1), `rows increase: ${event.row} after ${last}`);
              last = event.row;
            }
          } catch (error) {
            assert.ok(isRollcallError(error, 'ROLLCALL_ERR_IMPORT_REFUSED'), String(error));
          }
        },
      ),
      { numRuns: propertyRuns(300) },
    );
  });

  test('property: arbitrary bytes never crash decoding and reading', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), async (bytes) => {
        try {
          await collect(readCsv(decodeText(chunked(bytes, 7)), defaults));
        } catch (error) {
          assert.ok(isRollcallError(error, 'ROLLCALL_ERR_IMPORT_REFUSED'), String(error));
        }
      }),
      { numRuns: propertyRuns(300) },
    );
  });

  const plain = fc.string({ unit: fc.constantFrom('a', 'B', '7', ' ', '-', 'ü'), minLength: 1, maxLength: 6 }).filter((s) => s.trim() !== '');
  const quoted = fc.string({ unit: fc.constantFrom('a', ',', '"', ' ', '\n', '9'), maxLength: 6 });
  const goodCell = fc.oneof(plain.map((v) => ({ text: v, value: v })), quoted.map((v) => ({ text: `"${v.replace(/"/g, '""')}"`, value: v })));
  const goodRow = fc.array(goodCell, { minLength: 3, maxLength: 3 }).map((cells) => ({
    kind: 'good' as const,
    text: cells.map((c) => c.text).join(','),
    cells: cells.map((c) => c.value),
  })).filter((row) => row.cells.some((cell) => cell.trim() !== ''));
  const badRow = fc.oneof(
    plain.map((v) => ({ kind: 'bad' as const, text: `x,${v}"${v},y` })),
    plain.map((v) => ({ kind: 'bad' as const, text: `x,"${v}"${v},y` })),
    plain.map((v) => ({ kind: 'bad' as const, text: `x,${v}` })),
    plain.map((v) => ({ kind: 'bad' as const, text: `x,${v},y,z` })),
  );

  test('property: bad rows are reported on their lines, good rows come out unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof({ weight: 3, arbitrary: goodRow }, { weight: 1, arbitrary: badRow }), { maxLength: 12 }),
        fc.constantFrom('\n', '\r\n'),
        fc.integer({ min: 1, max: 40 }),
        async (rows, eol, size) => {
          let line = 2;
          const expected: string[] = ['header 1: a|b|c'];
          const text = ['a,b,c', ...rows.map((r) => r.text.replace(/\n/g, eol))].join(eol) + eol;
          for (const row of rows) {
            if (row.kind === 'good') expected.push(`row ${line}: ${row.cells.map((c) => c.replace(/\n/g, eol)).join('|')}`);
            else expected.push(`error ${line}`);
            line += row.text.split('\n').length;
          }
          const events = await collect(readCsv(chunked(Buffer.from(text), size), defaults));
          assert.deepEqual(brief(events), expected);
        },
      ),
      { numRuns: propertyRuns(200) },
    );
  });

  test('property: unterminated quotes lose only their own rows when the others hold no quotes', async () => {
    const quoteFree = fc.array(plain, { minLength: 2, maxLength: 2 }).map((cells) => ({ kind: 'good' as const, text: cells.join(','), cells }));
    const unterminated = plain.map((v) => ({ kind: 'bad' as const, text: `"${v},${v}` }));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof({ weight: 3, arbitrary: quoteFree }, { weight: 1, arbitrary: unterminated }), { maxLength: 15 }),
        fc.integer({ min: 1, max: 30 }),
        fc.constantFrom(24, 4096),
        async (rows, size, maxRecordBytes) => {
          const text = ['a,b', ...rows.map((r) => r.text)].join('\n') + '\n';
          const expected = ['header 1: a|b', ...rows.map((r, i) => (r.kind === 'good' ? `row ${i + 2}: ${r.cells.join('|')}` : `error ${i + 2}`))];
          const events = await collect(readCsv(chunked(Buffer.from(text), size), { ...defaults, maxRecordBytes }));
          assert.deepEqual(brief(events), expected);
        },
      ),
      { numRuns: propertyRuns(200) },
    );
  });
});
