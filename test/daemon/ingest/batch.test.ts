import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeBatch, type BatchOptions } from '../../../daemon/ingest/batch.js';
import { CardType, emptyUser, type User } from '../../../daemon/model/user.js';
import type { IngestRecord, UserPatch } from '../../../daemon/plugins/api.js';

function record(row: number, id: string, values: UserPatch['values'] = {}, blank: UserPatch['blank'] = []): IngestRecord {
  return { row, patch: { id, values, blank }, raw: [id, String(values.name ?? '')] };
}

function user(id: string, extra: Partial<User> = {}): User {
  return { ...emptyUser(id), ...extra };
}

const overwrite: BatchOptions = { merge: { mode: 'overwrite', blankClears: false }, alphanumericIds: false };
const preserve: BatchOptions = { merge: { mode: 'preserve', blankClears: false }, alphanumericIds: false };

describe('merging one batch', () => {
  test('new users are imported, equal ones unchanged, changed ones imported', () => {
    const stored = new Map<string, User | undefined>([
      ['1', user('1', { name: 'Same' })],
      ['2', user('2', { name: 'Old' })],
      ['3', undefined],
    ]);
    const out = mergeBatch([record(2, '1', { name: 'Same' }), record(3, '2', { name: 'New' }), record(4, '3', { name: 'Fresh' })], stored, new Map(), overwrite);
    assert.equal(out.imported, 2);
    assert.equal(out.unchanged, 1);
    assert.deepEqual(out.rejections, []);
    assert.deepEqual(out.users.map((u) => [u.id, u.name]), [['2', 'New'], ['3', 'Fresh']]);
  });

  test('preserve skips existing users as unchanged', () => {
    const stored = new Map<string, User | undefined>([['1', user('1', { name: 'Kept' })], ['2', undefined]]);
    const out = mergeBatch([record(2, '1', { name: 'Other' }), record(3, '2', { name: 'Added' })], stored, new Map(), preserve);
    assert.deepEqual([out.imported, out.unchanged], [1, 1]);
    assert.deepEqual(out.users.map((u) => u.name), ['Added']);
  });

  test('an ID twice in a batch: the second row lands on the first, and is committed once', () => {
    const stored = new Map<string, User | undefined>([['7', undefined]]);
    const both = mergeBatch(
      [record(2, '7', { name: 'First', department: 'A' }), record(3, '7', { name: 'Second' })],
      stored,
      new Map(),
      overwrite,
    );
    assert.equal(both.imported, 2);
    assert.equal(both.users.length, 1);
    assert.equal(both.users[0]!.name, 'Second');
    assert.equal(both.users[0]!.department, 'A', 'the first row\'s fields stay');
    // Under preserve the first row creates the user and the second finds it existing.
    const kept = mergeBatch([record(2, '7', { name: 'First' }), record(3, '7', { name: 'Second' })], stored, new Map(), preserve);
    assert.deepEqual([kept.imported, kept.unchanged, kept.users[0]!.name], [1, 1, 'First']);
  });

  test('a merged user that breaks a device rule fails its row with the rule, the batch goes on', () => {
    const stored = new Map<string, User | undefined>([['A12', undefined], ['12', undefined], ['13', undefined]]);
    const nineCards = Array.from({ length: 9 }, (_, i) => ({ type: CardType.CSN, data: Buffer.from([i + 1]).toString('base64') }));
    const out = mergeBatch(
      [record(2, 'A12', { name: 'Alpha' }), record(3, '12', { name: 'Ok' }), record(4, '13', { cards: nineCards })],
      stored,
      new Map(),
      overwrite,
    );
    assert.deepEqual(out.rejections.map((r) => r.row), [2, 4]);
    assert.match(out.rejections[0]!.reason, /^id: the user ID must be a number/);
    assert.match(out.rejections[1]!.reason, /cards: at most 8 cards per user \(got 9\)/);
    assert.deepEqual(out.rejections[0]!.raw, ['A12', 'Alpha']);
    assert.deepEqual(out.users.map((u) => u.id), ['12']);
    // The same row is fine where the site takes alphanumeric IDs.
    const alpha = mergeBatch([record(2, 'A12', { name: 'Alpha' })], stored, new Map(), { ...overwrite, alphanumericIds: true });
    assert.deepEqual([alpha.imported, alpha.rejections.length], [1, 0]);
  });

  test('rows that failed before the merge are rejected with their reason and not applied', () => {
    const rows = [record(2, '1', { name: 'A' }), record(3, '2', { name: 'B' })];
    const out = mergeBatch(rows, new Map([['1', undefined], ['2', undefined]]), new Map([[rows[0]!, 'pin: could not hash']]), overwrite);
    assert.deepEqual(out.rejections, [{ row: 2, raw: ['1', 'A'], reason: 'pin: could not hash' }]);
    assert.deepEqual(out.users.map((u) => u.id), ['2']);
  });

  test('a row still carrying a plaintext PIN fails instead of reaching the store', () => {
    const row: IngestRecord = { row: 5, patch: { id: '1', values: {}, blank: [], pin: '1234' }, raw: ['1', ''] };
    const out = mergeBatch([row], new Map([['1', undefined]]), new Map(), overwrite);
    assert.equal(out.users.length, 0);
    assert.equal(out.rejections.length, 1);
    assert.doesNotMatch(out.rejections[0]!.reason, /1234/);
  });
});
