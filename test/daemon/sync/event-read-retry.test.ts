/** How long an unreadable device event holds its device (daemon/sync/event-read-retry.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventReadRetries } from '../../../daemon/sync/event-read-retry.js';

const policy = { readAttempts: 3, retryBaseMs: 100, retryMaxMs: 150 };

test('an event is given up at its last try; delays grow up to the ceiling; another event or a clear starts again', () => {
  const retries = new EventReadRetries();
  const first = retries.failed(1, 10, policy);
  assert.equal(first.giveUp, false);
  assert.ok(!first.giveUp && first.retryInMs >= 80 && first.retryInMs <= 120, JSON.stringify(first));
  const second = retries.failed(1, 10, policy);
  assert.ok(!second.giveUp && second.attempts === 2 && second.retryInMs <= 150, JSON.stringify(second));
  // Another device is counted apart.
  assert.deepEqual(retries.failed(2, 10, policy).attempts, 1);
  assert.deepEqual(retries.failed(1, 10, policy), { giveUp: true, attempts: 3 });
  // After a give-up, and for another event, counting starts at 1.
  assert.equal(retries.failed(1, 10, policy).attempts, 1);
  assert.equal(retries.failed(1, 11, policy).attempts, 1);
  retries.clear(1);
  assert.equal(retries.failed(1, 11, policy).attempts, 1);
  assert.deepEqual(new EventReadRetries().failed(1, 1, { ...policy, readAttempts: 1 }), { giveUp: true, attempts: 1 });
});
