import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { compareIds, indexAfter } from '../../../daemon/store/id-order.js';

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

describe('compareIds', () => {
  const cases: [string, string, number][] = [
    ['a', 'b', -1],
    ['b', 'a', 1],
    ['a', 'a', 0],
    ['a', 'ab', -1],
    ['', 'a', -1],
    ['B', 'a', -1],
    ['z', 'é', -1],
    // JavaScript's < says U+1F600 (a surrogate pair) sorts before U+E000 and U+FFFD; UTF-8 says after.
    ['\u{1F600}', '\uE000', 1],
    ['\u{1F600}', '\uFFFD', 1],
    ['\uFFFD', '\u{10000}', -1],
    ['\u{1F600}', '\u{1F601}', -1],
    ['a\u0000', 'a', 1],
  ];
  for (const [a, b, sign] of cases) {
    test(`${JSON.stringify(a)} vs ${JSON.stringify(b)} is ${sign}`, () => {
      assert.equal(Math.sign(compareIds(a, b)), sign);
      assert.equal(Math.sign(byBytes(a, b)), sign, 'the table agrees with UTF-8 bytes');
    });
  }

  test('agrees with UTF-8 byte order for any well-formed strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        assert.equal(Math.sign(compareIds(a, b)), Math.sign(byBytes(a, b)));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('indexAfter', () => {
  const sorted = ['a', 'c', 'e', '\uFFFD', '\u{1F600}'];
  const cases: [string, number][] = [
    ['', 0],
    ['a', 1],
    ['b', 1],
    ['c', 2],
    ['z', 3],
    ['\uFFFD', 4],
    ['\u{1F600}', 5],
    ['\u{10FFFF}', 5],
  ];
  for (const [id, index] of cases) {
    test(`after ${JSON.stringify(id)} comes index ${index}`, () => {
      assert.equal(indexAfter(sorted, id), index);
    });
  }
  test('of an empty list is 0', () => assert.equal(indexAfter([], 'a'), 0));
});
