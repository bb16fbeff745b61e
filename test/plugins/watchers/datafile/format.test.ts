import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dataFileName, userMemberIndex, userMemberName } from '../../../../plugins/watchers/datafile/format.js';
import { describePlace, quoteMember } from '../../../../plugins/watchers/datafile/refusal.js';

describe('datafile format names', () => {
  test('users members are numbered with five digits from 1', () => {
    assert.equal(userMemberName(1), 'users-00001.jsonl');
    assert.equal(userMemberName(99_999), 'users-99999.jsonl');
    const indexes: [string, number | undefined][] = [
      ['users-00001.jsonl', 1],
      ['users-00042.jsonl', 42],
      ['users-00000.jsonl', undefined],
      ['users-1.jsonl', undefined],
      ['users-000001.jsonl', undefined],
      ['users-00001.json', undefined],
      ['x/users-00001.jsonl', undefined],
    ];
    for (const [name, index] of indexes) assert.equal(userMemberIndex(name), index, name);
  });

  test('file names carry the UTC time of creation', () => {
    assert.equal(dataFileName(new Date('2025-01-02T03:04:05.999Z')), 'rollcall_20250102_030405.tgz');
    assert.equal(dataFileName(new Date('2030-12-31T23:59:59Z')), 'rollcall_20301231_235959.tgz');
  });

  test('member names in messages are quoted, escaped and bounded', () => {
    assert.equal(quoteMember('header.json'), "'header.json'");
    assert.equal(quoteMember('a\nb\u001b'), "'a\\nb\\u001b'");
    assert.equal(quoteMember('x'.repeat(500)).length, 2 + 120 + 1);
    assert.equal(describePlace({ member: 'a' }), "member 'a'");
    assert.equal(describePlace({ after: 'a' }), "after member 'a'");
    assert.equal(describePlace({ after: undefined }), 'before the first member');
  });
});
