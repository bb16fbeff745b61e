import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cardDataToCsn, csnToCardData, CSN_MAX, readCsn } from '../../../../plugins/watchers/csv/csn.js';
import { defuseCell, undefuseCell } from '../../../../plugins/watchers/csv/defuse.js';
import { propertyRuns } from './fixtures.js';

describe('csn', () => {
  test('a decimal CSN becomes 32 big-endian bytes', () => {
    const read = readCsn('4294967296');
    assert.ok(read.ok);
    const bytes = Buffer.from(read.data, 'base64');
    assert.equal(bytes.length, 32);
    assert.deepEqual([...bytes.subarray(26)], [0, 1, 0, 0, 0, 0]);
    assert.equal(bytes.subarray(0, 26).every((b) => b === 0), true);
  });

  test('card data of any length reads back as its number', () => {
    assert.equal(cardDataToCsn(Buffer.from([0x01, 0x00]).toString('base64')), 256n);
    assert.equal(cardDataToCsn(Buffer.alloc(32).toString('base64')), undefined);
    const tooBig = Buffer.alloc(32);
    tooBig[21] = 1; // 2^80
    assert.equal(cardDataToCsn(tooBig.toString('base64')), undefined);
  });

  test('property: number → data → number', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: CSN_MAX }), (value) => {
        assert.equal(cardDataToCsn(csnToCardData(value)), value);
        const read = readCsn(value.toString());
        assert.ok(read.ok);
        assert.equal(read.data, csnToCardData(value));
      }),
      { numRuns: propertyRuns(200) },
    );
  });
});

describe('defuse', () => {
  const table: [string, string][] = [
    ['=SUM(A1)', "'=SUM(A1)"],
    ['+82 10', "'+82 10"],
    ['-5', "'-5"],
    ['@cmd', "'@cmd"],
    ['\tx', "'\tx"],
    ['\rx', "'\rx"],
    ["'=x", "''=x"],
    ["'abc", "'abc"],
    ['Kim', 'Kim'],
    ['', ''],
    ['a=b', 'a=b'],
  ];
  for (const [value, written] of table) {
    test(`${JSON.stringify(value)} is written ${JSON.stringify(written)} and read back`, () => {
      assert.equal(defuseCell(value), written);
      assert.equal(undefuseCell(written), value);
    });
  }

  test('property: defusing then undoing it is the identity, and nothing written starts a formula', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("'", '=', '+', '-', '@', '\t', 'a', ' ', '1'), maxLength: 8 }), (value) => {
        const written = defuseCell(value);
        assert.equal(undefuseCell(written), value);
        assert.doesNotMatch(written, /^[=+\-@\t\r]/);
      }),
      { numRuns: propertyRuns(300) },
    );
  });
});
