import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter } from '../../../../plugins/watchers/datafile/lines.js';

function split(chunks: string[], max = 16): { lines: string[]; pending: number } {
  const splitter = new LineSplitter(max, (bytes) => new RangeError(`too long: ${bytes}`));
  const lines: string[] = [];
  for (const chunk of chunks) for (const line of splitter.push(Buffer.from(chunk))) lines.push(line.toString());
  return { lines, pending: splitter.pending };
}

describe('datafile line splitter', () => {
  const cases: [string, string[], string[], number][] = [
    ['one chunk, two lines', ['ab\ncd\n'], ['ab', 'cd'], 0],
    ['a line across chunks', ['ab', 'c', 'd\ne\n'], ['abcd', 'e'], 0],
    ['an unfinished line', ['ab\ncd'], ['ab'], 2],
    ['empty lines are lines', ['\n\n'], ['', ''], 0],
    ['a line of exactly the cap (15 bytes + LF)', ['0123456789abcde\n'], ['0123456789abcde'], 0],
    ['a chunk that ends at an LF', ['ab\n', 'cd\n'], ['ab', 'cd'], 0],
  ];
  for (const [label, chunks, lines, pending] of cases) {
    test(label, () => {
      assert.deepEqual(split(chunks), { lines, pending });
    });
  }

  test('a line one byte past the cap is refused when its LF arrives', () => {
    assert.throws(() => split(['0123456789abcdef\n']), /too long: 17/);
  });

  test('a line past the cap is refused before it ends, without waiting for more', () => {
    assert.throws(() => split(['0123456789', 'abcdefgh']), /too long: 18/);
  });
});
