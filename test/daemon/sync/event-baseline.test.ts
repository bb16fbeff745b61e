/** The newest-event search and the anchor check (daemon/sync/event-baseline.ts), over logs given as ID lists. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeviceEvent } from '../../../daemon/plugins/api.js';
import { checkAnchor, isLogResetEvent, newestEventId } from '../../../daemon/sync/event-baseline.js';

const event = (id: number, eventCode = 0x1000): DeviceEvent => ({ id, deviceId: 1, timestamp: 0, eventCode, subCode: 0, changedOnDevice: false });

/** GetLog over a log holding these IDs (ascending): the first `max` at or after `start`, 0 = from the oldest. */
function logOf(ids: readonly number[]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    async readEvents(_deviceId: number, start: number, max: number): Promise<DeviceEvent[]> {
      calls += 1;
      const from = ids.filter((id) => id >= start);
      return (max > 0 ? from.slice(0, max) : from).map((id) => event(id));
    },
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('newestEventId', () => {
  const cases: { name: string; ids: number[]; most: number }[] = [
    { name: 'an empty log', ids: [], most: 1 },
    { name: 'one event', ids: [1], most: 3 },
    { name: '10,000 events', ids: range(1, 10_000), most: 30 },
    { name: 'a log that wrapped (oldest held is 900,001)', ids: range(900_001, 1_000_000), most: 40 },
    { name: 'gaps in the IDs', ids: [3, 4, 9, 10, 11, 40, 41, 97, 1000, 1001, 1003], most: 30 },
    { name: 'a power of two', ids: range(1, 1024), most: 25 },
  ];
  for (const c of cases) {
    test(`${c.name}: the last ID, in at most ${c.most} one-event reads`, async () => {
      const log = logOf(c.ids);
      assert.equal(await newestEventId(log, 1), c.ids.at(-1) ?? 0);
      assert.ok(log.calls <= c.most, `${log.calls} calls`);
    });
  }
});

describe('checkAnchor', () => {
  test('the last event read still there: intact; gone: reset; passed by: overwritten', () => {
    assert.deepEqual(checkAnchor(0, []), { kind: 'intact' });
    assert.deepEqual(checkAnchor(0, [event(1)]), { kind: 'intact' });
    assert.deepEqual(checkAnchor(7, [event(7), event(8)]), { kind: 'intact' });
    assert.deepEqual(checkAnchor(7, []), { kind: 'reset' });
    assert.deepEqual(checkAnchor(7, [event(2)]), { kind: 'reset' });
    assert.deepEqual(checkAnchor(7, [event(20)]), { kind: 'overwritten', firstId: 20 });
  });

  test('reset codes are 0x4200, 0x4501 and 0x4502', () => {
    assert.deepEqual([0x4200, 0x4501, 0x4502, 0x2600, 0x3000].map((code) => isLogResetEvent(event(1, code))), [true, true, true, false, false]);
  });
});
