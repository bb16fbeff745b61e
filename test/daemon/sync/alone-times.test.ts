/**
 * Which devices served alone count as slow (alone-times.ts), and how DeviceHealth keeps a slow
 * device alone and lets it share calls again. Durations are given, not measured.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { AloneTimes } from '../../../daemon/sync/alone-times.js';
import { slowCallMs } from '../../../daemon/sync/soft-deadline.js';
import { DeviceHealth } from '../../../daemon/sync/device-health.js';
import { DeviceState, TROUBLE_ALONE_MS } from '../../../daemon/sync/device-state.js';
import type { SyncContext } from '../../../daemon/sync/context.js';
import type { Fleet } from '../../../daemon/sync/fleet.js';

describe('AloneTimes', () => {
  test('with no other device alone, the fixed allowance for the size decides', () => {
    const t = new AloneTimes();
    for (let i = 0; i < 10; i++) assert.equal(t.slow(1, 400, 500), true, 'its own slow calls do not raise its allowance');
    assert.equal(t.allowanceMs(1, 500), slowCallMs(500));
    assert.equal(t.slow(1, slowCallMs(500) - 1, 500), false);
  });

  test('when every device alone is slow alike (a loaded host), none counts as slow', () => {
    const t = new AloneTimes();
    for (let d = 1; d <= 5; d++) t.slow(d, 200, 500);
    assert.equal(t.allowanceMs(1, 500), 600, 'three times the median of the others');
    assert.equal(t.slow(1, 250, 500), false);
    assert.equal(t.slow(6, 700, 500), true, 'a device far slower than its peers still is');
  });

  test('calls made at once are judged against each other, the first in not before the rest', () => {
    const t = new AloneTimes();
    const slow = slowCallMs(20) * 4;
    // Four parts of a cut call, all slowed alike by the load; one far slower than the rest.
    assert.deepEqual(
      t.slowTogether([
        { device: 1, ms: slow, users: 20 },
        { device: 2, ms: slow + 5, users: 20 },
        { device: 3, ms: slow - 5, users: 20 },
        { device: 4, ms: slow * 4, users: 20 },
      ]),
      [false, false, false, true],
    );
    // One at a time, the first would have had no peers and been slow by the fixed allowance.
    assert.equal(new AloneTimes().slow(1, slow, 20), true);
  });

  test('the peers of another size class do not count', () => {
    const t = new AloneTimes();
    for (let d = 1; d <= 5; d++) t.slow(d, 200, 10);
    assert.equal(t.allowanceMs(9, 500), slowCallMs(500));
  });
});

function health(clock: { ms: number }): DeviceHealth {
  const ctx = { now: () => clock.ms, logger: pino({ level: 'silent' }) } as unknown as SyncContext;
  return new DeviceHealth({ ctx, fleet: {} as Fleet });
}

describe('DeviceHealth.timedAlone', () => {
  test('a slow device is kept alone for the minute, however fast it answers meanwhile; then it shares calls again', () => {
    const clock = { ms: 1_000_000 };
    const h = health(clock);
    const d = new DeviceState({ id: 1, source: 'config', lastEventId: 0 }, 0);
    h.timedAlone(d, 10, 500);
    assert.equal(d.aloneUntil, 0, 'in time: nothing changes');
    h.timedAlone(d, slowCallMs(500) + 1, 500);
    const until = clock.ms + TROUBLE_ALONE_MS;
    assert.equal(d.aloneUntil, until);
    for (let i = 0; i < 10; i++) h.timedAlone(d, 10, 500);
    assert.equal(d.aloneUntil, until, 'in-time answers do not end it early');
    clock.ms = until + 1;
    assert.ok(d.aloneUntil < clock.ms, 'the minute is over');
  });

  test('together(): timings wait for judge(); later ones are judged as they come', () => {
    const clock = { ms: 1_000_000 };
    const h = health(clock);
    const devices = [1, 2, 3].map((id) => new DeviceState({ id, source: 'config', lastEventId: 0 }, 0));
    const parts = h.together();
    for (const d of devices) parts.timed(d, slowCallMs(20) * 3, 20);
    assert.ok(devices.every((d) => d.aloneUntil === 0), 'nothing is judged before judge()');
    parts.judge();
    assert.ok(devices.every((d) => d.aloneUntil === 0), 'slow alike: none is kept alone');
    const late = new DeviceState({ id: 4, source: 'config', lastEventId: 0 }, 0);
    parts.timed(late, slowCallMs(20) * 30, 20);
    assert.equal(late.aloneUntil, clock.ms + TROUBLE_ALONE_MS, 'a part far slower than its peers, in after them, is kept alone');
  });

  test('a device alone because it failed stays alone for the while, however fast it answers', () => {
    const clock = { ms: 1_000_000 };
    const h = health(clock);
    const d = new DeviceState({ id: 2, source: 'config', lastEventId: 0 }, 0);
    d.failed('unavailable', clock.ms, {}, { after: 10, retryMs: 1000 });
    const until = d.aloneUntil;
    for (let i = 0; i < 6; i++) h.timedAlone(d, 10, 500);
    assert.equal(d.aloneUntil, until);
  });
});
