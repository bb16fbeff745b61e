/**
 * One bad user never quarantines a device (issue 13 item 3), and a batch that times out is
 * sent again smaller (item 7): the engine against the real simulator over gRPC and a real
 * LevelDB, with the simulator's poisoned-user and slow-batch faults (simulator/faults.ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { SyncHarness, makeUser } from '../../helpers/sync-harness.js';

const ids = (from: number, count: number): string[] => Array.from({ length: count }, (_, i) => String(from + i));
const except = (all: readonly string[], ...left: string[]): string[] => all.filter((id) => !left.includes(id));
/** Gateway calls of `method` so far, with any code or with this one. */
async function calls(h: SyncHarness, method: string, code?: string): Promise<number> {
  const metric = h.metrics.registry.getSingleMetric('rollcall_gateway_calls_total');
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.filter((v) => v.labels['method'] === method && (code === undefined || v.labels['code'] === code)).reduce((sum, v) => sum + v.value, 0);
}

/** What a device's health and refusals look like once the batch is through. */
async function assertNotQuarantined(h: SyncHarness, deviceId: number): Promise<void> {
  const state = h.engine.device(deviceId);
  assert.equal(state?.quarantined, false, `device ${deviceId} quarantined`);
  assert.equal(state?.failures, 0, `device ${deviceId}: ${state?.lastError ?? ''}`);
  const quarantined = await h.store.queryEvents({ deviceId, kind: 'device.quarantined' });
  assert.deepEqual(quarantined, []);
}

describe('sync engine: a user the device chokes on', () => {
  test('a batch of 100 with one poisoned user: that user is refused with the reason, the 99 arrive, the device is not quarantined', async () => {
    const h = await SyncHarness.start();
    try {
      await h.until('initial checks', () => h.engine.status().every((d) => d.lastCheck !== undefined));
      h.sim.device(1002).setFault({ poisonUserIDs: ['42'], poisonCode: status.INTERNAL });
      const before = await calls(h, 'EnrollMulti');
      const all = ids(1, 100);
      await h.put(...all.map((id) => makeUser(id)));
      for (const device of [1001, 1003]) await h.until(`device ${device} complete`, () => h.deviceEquals(device, all));
      await h.until('device 1002 all but 42', () => h.deviceEquals(1002, except(all, '42')));
      await h.until('1002 at the head', () => h.engine.device(1002)?.cursor === h.store.currentSeq());
      const record = await h.store.getDevice(1002);
      assert.deepEqual(Object.keys(record?.rejectedUsers ?? {}), ['42']);
      assert.match(record!.rejectedUsers!['42']!.reason, /INTERNAL/);
      assert.match(record!.rejectedUsers!['42']!.reason, /user 42 is poisoned/);
      const refusedEvents = await h.store.queryEvents({ deviceId: 1002, kind: 'sync.enroll.refused' });
      assert.deepEqual(refusedEvents.map((e) => e.userId), ['42']);
      await assertNotQuarantined(h, 1002);
      // Bisection, not one user at a time (that would be 100 calls and more).
      const used = (await calls(h, 'EnrollMulti')) - before;
      assert.ok(used <= 25, `EnrollMulti calls: ${used}`);
      assert.match(await h.metrics.registry.metrics(), /rollcall_sync_batches_split_total\{why="user"\} [1-9]/);
      // The refusal holds: the next change of another user does not send 42 again.
      await h.put(makeUser('101'));
      await h.until('101 on 1002', () => h.deviceEquals(1002, except([...all, '101'], '42')));
      await assertNotQuarantined(h, 1002);
    } finally {
      await h.stop();
    }
  });

  test('a user refused with INTERNAL (a cause that says nothing about it) is offered again by the next check, and then on the device', async () => {
    const h = await SyncHarness.start();
    try {
      await h.until('initial checks', () => h.engine.status().every((d) => d.lastCheck !== undefined));
      h.sim.device(1002).setFault({ poisonUserIDs: ['42'], poisonCode: status.INTERNAL });
      const all = ids(40, 5);
      await h.put(...all.map((id) => makeUser(id)));
      await h.until('device 1002 all but 42', () => h.deviceEquals(1002, except(all, '42')));
      await h.until('1002 at the head', () => h.engine.device(1002)?.cursor === h.store.currentSeq());
      assert.equal((await h.store.getDevice(1002))?.rejectedUsers?.['42']?.unknown, true);

      // Still failing: a check offers it again, and it stays refused (nothing else changes).
      const [still] = await h.engine.verify({ deviceId: 1002, repair: true });
      assert.equal(still?.differences, 1, 'offered again');
      assert.equal(still?.enrolled, 0);
      assert.deepEqual(Object.keys((await h.store.getDevice(1002))?.rejectedUsers ?? {}), ['42']);
      await assertNotQuarantined(h, 1002);

      // The device's trouble passed: the next check puts it there and the refusal is over.
      h.sim.device(1002).clearFaults();
      const [fixed] = await h.engine.verify({ deviceId: 1002, repair: true });
      assert.equal(fixed?.enrolled, 1);
      assert.equal(fixed?.inSync, true);
      assert.ok(await h.deviceEquals(1002, all));
      assert.deepEqual((await h.store.getDevice(1002))?.rejectedUsers ?? {}, {});
      // A check with nothing to repair keeps it that way.
      const [clean] = await h.engine.verify({ deviceId: 1002, repair: true });
      assert.equal(clean?.differences, 0);
    } finally {
      await h.stop();
    }
  });

  test('two poisoned users, and a call that fails as a whole (UNKNOWN, no per-device errors): both refused, 98 arrive', async () => {
    const h = await SyncHarness.start();
    try {
      await h.until('initial checks', () => h.engine.status().every((d) => d.lastCheck !== undefined));
      h.sim.device(1002).setFault({ poisonUserIDs: ['7', '70'], poisonCode: status.UNKNOWN, poisonWholeCall: true });
      const all = ids(1, 100);
      await h.put(...all.map((id) => makeUser(id)));
      // The shared call failed whole for every device: the others are served alone and arrive too.
      for (const device of [1001, 1003]) await h.until(`device ${device} complete`, () => h.deviceEquals(device, all));
      await h.until('device 1002 all but 7 and 70', () => h.deviceEquals(1002, except(all, '7', '70')));
      await h.until('1002 at the head', () => h.engine.device(1002)?.cursor === h.store.currentSeq());
      const record = await h.store.getDevice(1002);
      assert.deepEqual(Object.keys(record?.rejectedUsers ?? {}).sort(), ['7', '70']);
      for (const id of ['7', '70']) assert.match(record!.rejectedUsers![id]!.reason, /UNKNOWN/);
      await assertNotQuarantined(h, 1002);
      for (const device of [1001, 1003]) assert.equal(Object.keys((await h.store.getDevice(device))?.rejectedUsers ?? {}).length, 0);
    } finally {
      await h.stop();
    }
  });

  test('a check\'s repair isolates the poisoned user the same way', async () => {
    const h = await SyncHarness.start({ devices: [{ id: 1001 }] });
    try {
      await h.until('initial check', () => h.engine.status().every((d) => d.lastCheck !== undefined));
      const all = ids(1, 40);
      await h.put(...all.map((id) => makeUser(id)));
      await h.until('1001 complete', () => h.deviceEquals(1001, all));
      h.sim.device(1001).deleteAtDevice(all);
      h.sim.device(1001).setFault({ poisonUserIDs: ['13'], poisonCode: status.DATA_LOSS });
      const [repaired] = await h.engine.verify({ deviceId: 1001, repair: true });
      assert.equal(repaired?.enrolled, 39, repaired?.error);
      assert.ok(await h.deviceEquals(1001, except(all, '13')));
      assert.match((await h.store.getDevice(1001))?.rejectedUsers?.['13']?.reason ?? '', /DATA_LOSS/);
      await assertNotQuarantined(h, 1001);
    } finally {
      await h.stop();
    }
  });
});

describe('sync engine: a batch that times out', () => {
  test('per-device DEADLINE_EXCEEDED (the gateway\'s own timeout): sent again in halves, all 100 arrive, nobody refused', async () => {
    const h = await SyncHarness.start();
    try {
      await h.until('initial checks', () => h.engine.status().every((d) => d.lastCheck !== undefined));
      h.sim.device(1002).setFault({ slowAboveUsers: 10, slowLatencyMs: 0 });
      const timeouts = (): Promise<number> => calls(h, 'EnrollMulti', 'DEADLINE_EXCEEDED');
      const all = ids(1, 100);
      await h.put(...all.map((id) => makeUser(id)));
      for (const device of [1001, 1002, 1003]) await h.until(`device ${device} complete`, () => h.deviceEquals(device, all));
      await h.until('1002 at the head', () => h.engine.device(1002)?.cursor === h.store.currentSeq());
      assert.equal(Object.keys((await h.store.getDevice(1002))?.rejectedUsers ?? {}).length, 0);
      await assertNotQuarantined(h, 1002);
      // Later batches start at the size that went through, instead of timing out from 100 again.
      const cap = h.engine.device(1002)?.batchCap;
      assert.ok(cap !== undefined && cap <= 10, `batch cap ${cap}`);
      assert.match(await h.metrics.registry.metrics(), /rollcall_sync_batches_split_total\{why="timeout"\} [1-9]/);
      const first = await timeouts();
      const next = ids(101, 100);
      await h.put(...next.map((id) => makeUser(id)));
      await h.until('device 1002 has the second hundred', () => h.deviceEquals(1002, [...all, ...next]));
      const second = (await timeouts()) - first;
      assert.ok(second < first, `timeouts: ${first} for the first hundred, ${second} for the second`);
      await assertNotQuarantined(h, 1002);
    } finally {
      await h.stop();
    }
  });

  test('the client\'s deadline passes on a big batch: sent again in halves, all arrive, nobody refused', async () => {
    const h = await SyncHarness.start({ gateway: { deadlines: { defaultMs: 2000, longMs: 400 } } });
    try {
      await h.until('initial checks', () => h.engine.status().every((d) => d.lastCheck !== undefined));
      h.sim.device(1002).setFault({ slowAboveUsers: 12, slowLatencyMs: 60_000 });
      const all = ids(1, 100);
      await h.put(...all.map((id) => makeUser(id)));
      for (const device of [1001, 1002, 1003]) await h.until(`device ${device} complete`, () => h.deviceEquals(device, all), 60_000);
      await h.until('1002 at the head', () => h.engine.device(1002)?.cursor === h.store.currentSeq());
      assert.ok((await calls(h, 'EnrollMulti', 'DEADLINE_EXCEEDED')) >= 1, 'a call did time out');
      assert.equal(Object.keys((await h.store.getDevice(1002))?.rejectedUsers ?? {}).length, 0);
      await assertNotQuarantined(h, 1002);
    } finally {
      await h.stop();
    }
  });

  test('a single user that still times out is the device\'s unavailability (backoff), not a refusal of that user', async () => {
    const h = await SyncHarness.start({ devices: [{ id: 1001 }], gateway: { deadlines: { defaultMs: 400, longMs: 400 } } });
    try {
      await h.until('initial check', () => h.engine.status().every((d) => d.lastCheck !== undefined));
      h.sim.device(1001).setFault({ latencyMs: 60_000 });
      const four = ids(1, 4);
      await h.put(...four.map((id) => makeUser(id)));
      // 4 users, then 2, then 1: three timed-out calls at least before the device backs off.
      await h.until('split down to one user', async () => (await calls(h, 'EnrollMulti', 'DEADLINE_EXCEEDED')) >= 3, 30_000);
      await h.until('1001 backing off', () => (h.engine.device(1001)?.failures ?? 0) > 0, 30_000);
      assert.match(h.engine.device(1001)?.lastError ?? '', /DEADLINE_EXCEEDED/);
      assert.equal(Object.keys((await h.store.getDevice(1001))?.rejectedUsers ?? {}).length, 0, 'nobody refused');
      h.sim.device(1001).clearFaults();
      await h.until('1001 after the fault', () => h.deviceEquals(1001, four), 30_000);
      await h.until('1001 recovered', () => h.engine.device(1001)?.failures === 0);
      assert.equal(Object.keys((await h.store.getDevice(1001))?.rejectedUsers ?? {}).length, 0);
    } finally {
      await h.stop();
    }
  });
});
