import { test } from 'node:test';
import assert from 'node:assert/strict';
import { driftOf } from '../../../bench/lib/drift.js';
import { siteUsers } from '../../../bench/lib/site-users.js';

test('1 % drift of 10k users: 100 users in three kinds, spread over the range, none overlapping', () => {
  const users = siteUsers(10_000);
  const drift = driftOf(users, 0.01);
  assert.deepEqual([drift.missing.length, drift.changed.length, drift.extra.length], [34, 33, 33]);
  const known = new Set(users.map((u) => u.id));
  assert.ok(drift.missing.every((id) => known.has(id)));
  assert.ok(drift.changed.every((u) => known.has(u.id) && u.cards.length === 2));
  assert.ok(drift.extra.every((u) => !known.has(u.id)));
  const touched = new Set([...drift.missing, ...drift.changed.map((u) => u.id), ...drift.extra.map((u) => u.id)]);
  assert.equal(touched.size, 100);
  assert.equal(drift.missing[0], users[0]!.id);
  assert.ok(Number(drift.changed[drift.changed.length - 1]!.id) > Number(users[9000]!.id), 'spread to the end of the range');
});

test('the same drift every time', () => {
  const users = siteUsers(3000);
  assert.deepEqual(driftOf(users, 0.01), driftOf(users, 0.01));
});
