import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentDiff, differences, headerDiff, type ExpectedUser } from '../../../daemon/sync/reconcile-diff.js';

const want = (cards: number, fingers = 0, faces = 0, hash = `h${cards}${fingers}${faces}`): ExpectedUser => ({ cards, fingers, faces, hash });

test('the header check finds missing, extra and count-mismatched users and leaves some alone', () => {
  const expected = new Map([
    ['1', want(1)],
    ['2', want(0, 2)],
    ['3', want(0)],
  ]);
  const headers = [
    { id: '1', cards: 1, fingers: 0, faces: 0 },
    { id: '2', cards: 0, fingers: 1, faces: 0 },
    { id: '7', cards: 0, fingers: 0, faces: 0 },
    { id: '8', cards: 0, fingers: 0, faces: 0 },
  ];
  const diff = headerDiff(expected, headers, new Set(['8']));
  assert.deepEqual(diff, { missing: ['3'], extra: ['7'], mismatched: ['2'], matched: ['1'] });
  assert.equal(differences(diff), 3);
  assert.equal(differences(diff, ['1']), 4);
});

test('equal sets have no differences', () => {
  const expected = new Map([['1', want(1)]]);
  assert.equal(differences(headerDiff(expected, [{ id: '1', cards: 1, fingers: 0, faces: 0 }], new Set())), 0);
});

test('the deep check compares content hashes', () => {
  const expected = new Map([
    ['1', 'aaa'],
    ['2', 'bbb'],
  ]);
  assert.deepEqual(contentDiff(expected, [{ id: '1', hash: 'aaa' }, { id: '2', hash: 'ccc' }, { id: '3', hash: 'ddd' }]), ['2', '3'], 'a user with no expected hash differs');
});
