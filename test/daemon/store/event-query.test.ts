import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EventQuery, StoredEvent } from '../../../daemon/plugins/api.js';
import { eventMatches, kindMatches } from '../../../daemon/store/event-query.js';

describe('kindMatches', () => {
  const cases: [string, string, boolean][] = [
    ['sync.enroll.failed', 'sync.enroll.failed', true],
    ['sync.enroll.failed', 'sync.', true],
    ['sync.enroll.failed', 'sync.enroll.', true],
    ['sync.enroll.failed', 'sync', false],
    ['sync', 'sync', true],
    ['sync', 'sync.', false],
    ['syncx.a', 'sync.', false],
    ['user.update.server', 'user.update.device', false],
  ];
  for (const [kind, pattern, expected] of cases) {
    test(`${kind} ${expected ? 'matches' : 'does not match'} ${pattern}`, () => {
      assert.equal(kindMatches(kind, pattern), expected);
    });
  }
});

describe('eventMatches', () => {
  const event: StoredEvent = { id: 7, kind: 'sync.enroll.failed', message: 'm', at: 1000, userId: 'u1', deviceId: 3 };
  const cases: [EventQuery, boolean][] = [
    [{}, true],
    [{ afterId: 6 }, true],
    [{ afterId: 7 }, false],
    [{ since: 1000 }, true],
    [{ since: 1000.5 }, false],
    [{ until: 1000 }, false],
    [{ until: 1000.5 }, true],
    [{ userId: 'u1' }, true],
    [{ userId: 'u2' }, false],
    [{ deviceId: 3 }, true],
    [{ deviceId: 4 }, false],
    [{ kind: 'sync.' }, true],
    [{ kind: 'user.' }, false],
    [{ userId: 'u1', deviceId: 3, kind: 'sync.enroll.failed', since: 0, until: 2000, afterId: 0 }, true],
    [{ userId: 'u1', deviceId: 3, kind: 'sync.enroll.failed', since: 0, until: 2000, afterId: 7 }, false],
  ];
  for (const [query, expected] of cases) {
    test(`${JSON.stringify(query)} → ${expected}`, () => {
      assert.equal(eventMatches(event, query), expected);
    });
  }
  test('an event without user or device does not match a query for one', () => {
    const bare: StoredEvent = { id: 1, kind: 'import.done', message: 'm', at: 1 };
    assert.equal(eventMatches(bare, { userId: 'u1' }), false);
    assert.equal(eventMatches(bare, { deviceId: 0 }), false);
  });
});
