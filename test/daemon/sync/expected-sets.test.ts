/**
 * Expected sets over a real LevelDB (commit times on the manual clock, so tombstones can be
 * aged) in the access-group-devices mode, where devices serving the same groups are placed
 * alike. The store is seen through a window that counts the scans and user reads the sets
 * make; no device is involved.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tempLevelStore } from '../../helpers/stores.js';
import { EXPECTED_SETS, EXPECTED_SET_IDLE_MS, ExpectedSets, type ExpectedSet } from '../../../daemon/sync/expected-sets.js';
import { DeviceState } from '../../../daemon/sync/device-state.js';
import { deviceProjectionHash } from '../../../daemon/model/projection.js';
import type { DeviceRecord } from '../../../daemon/model/device.js';
import type { Store } from '../../../daemon/plugins/api.js';
import type { User } from '../../../daemon/model/user.js';
import { makeUser, putUsers, removeUsers } from '../../helpers/sync-harness.js';
import { ManualClock, syncParts, type SyncParts } from '../../helpers/sync-parts.js';

/** The store, counting its scans and the IDs of its user reads. */
function watched(store: Store): { store: Store; scans: number; reads: string[][] } {
  const seen = { store, scans: 0, reads: [] as string[][] };
  seen.store = new Proxy(store, {
    get(target, name) {
      const value: unknown = Reflect.get(target, name, target);
      if (typeof value !== 'function') return value;
      if (name === 'scanUsers') {
        return (...args: Parameters<Store['scanUsers']>) => {
          seen.scans += 1;
          return target.scanUsers(...args);
        };
      }
      if (name === 'scanUserSummaries') {
        return () => {
          seen.scans += 1;
          return target.scanUserSummaries();
        };
      }
      if (name === 'getUsers') {
        return (ids: string[]) => {
          seen.reads.push([...ids]);
          return target.getUsers(ids);
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
  return seen;
}

interface Subject {
  sets: ExpectedSets;
  parts: SyncParts;
  store: Store;
  seen: ReturnType<typeof watched>;
  clock: ManualClock;
}

function withSets(title: string, body: (s: Subject) => Promise<void>): void {
  test(title, async () => {
    const clock = new ManualClock();
    const stored = await tempLevelStore({ now: () => clock.now });
    try {
      const seen = watched(stored.store);
      const parts = syncParts({ store: seen.store, mode: 'access-group-devices', clock });
      const sets = new ExpectedSets({ ctx: parts.ctx, fleet: parts.fleet, feed: parts.feed });
      await body({ sets, parts, store: stored.store, seen, clock });
    } finally {
      await stored.cleanup();
    }
  });
}

function device(id: number, groups: number[], extra: Partial<DeviceRecord> = {}): DeviceState {
  return new DeviceState({ id, source: 'config', lastEventId: 0, accessGroups: groups, ...extra }, 0);
}

const inGroup = (id: string, group: number, extra: Partial<User> = {}) => makeUser(id, { accessGroups: [group], ...extra });
const ids = (set: ExpectedSet) => [...set.expected.keys()].sort();

describe('ExpectedSets', () => {
  withSets('devices placed alike share one set, made by one scan; others get their own', async ({ sets, store, seen }) => {
    await putUsers(store, inGroup('1', 1), inGroup('2', 1), inGroup('3', 2), inGroup('x9', 1));
    const [a, b] = await Promise.all([sets.shared(device(11, [1])), sets.shared(device(12, [1]))]);
    assert.equal(a, b, 'one set for both');
    assert.equal(seen.scans, 1);
    assert.deepEqual(ids(a), ['1', '2']);
    assert.deepEqual([...a.leaveAlone], ['x9'], 'a user that breaks a rule of the devices is left alone, not expected');
    assert.equal(a.expected.get('1')?.hash, undefined, 'made from summaries: no hash until one is needed');
    assert.equal((await sets.hashes(device(11, [1]), a.expected, ['1', '3'])).get('1'), deviceProjectionHash((await store.getUser('1'))!));
    assert.equal((await sets.hashes(device(11, [1]), a.expected, ['3'])).size, 0, 'a user not expected has no hash');
    assert.equal(await sets.shared(device(13, [1])), a, 'nothing committed since: the same set, no scan');
    assert.equal(seen.scans, 1);

    const other = await sets.shared(device(14, [2]));
    assert.deepEqual(ids(other), ['3']);
    const alphanumeric = await sets.shared(device(15, [1], { useAlphanumericID: true }));
    assert.deepEqual(ids(alphanumeric), ['1', '2', 'x9'], 'other ID rules, another set');
    assert.equal(seen.scans, 3);
    assert.equal(sets.size, 3);
  });

  withSets('after commits a set is brought forward: only the users changed since are read and placed again', async ({ sets, store, seen }) => {
    await putUsers(store, ...Array.from({ length: 20 }, (_, i) => inGroup(String(i + 1), 1)), inGroup('x9', 1));
    const d = device(11, [1]);
    const before = await sets.shared(d);
    assert.equal(seen.reads.length, 0, 'the scan reads summaries, no whole user');
    const hashBefore = (await sets.hashes(d, before.expected, ['1'])).get('1');
    assert.equal(hashBefore, deviceProjectionHash((await store.getUser('1'))!), 'a hash the set lacks is worked out from the stored user');
    seen.reads.length = 0;

    await putUsers(store, inGroup('1', 1, { name: 'Renamed' }), inGroup('21', 1), inGroup('22', 2));
    await removeUsers(store, '2', 'x9');
    const after = await sets.shared(d);
    assert.notEqual(after, before, 'a new set: a set is never changed');
    assert.equal(after.seq, store.currentSeq());
    assert.equal(seen.scans, 1, 'no second scan');
    assert.deepEqual(seen.reads.flat().sort(), ['1', '21', '22'], 'only the users changed since were read');
    assert.deepEqual(ids(after), [...Array.from({ length: 21 }, (_, i) => String(i + 1)).filter((id) => id !== '2')].sort());
    assert.notEqual(after.expected.get('1')!.hash, hashBefore, "the changed user's hash follows");
    assert.equal(after.expected.get('1')!.hash, deviceProjectionHash((await store.getUser('1'))!));
    assert.equal(after.expected.has('22'), false, 'a user of another group is not placed here');
    assert.deepEqual([...after.leaveAlone], [], 'a deleted user leaves the users left alone too');
    assert.equal(before.expected.has('2'), true, 'the old set is as it was');
    assert.equal(before.expected.get('1')!.hash, undefined, 'the old set is not given hashes');
  });

  withSets('a set older than the feed horizon is made again by a scan', async ({ sets, store, seen, clock }) => {
    await putUsers(store, inGroup('1', 1), inGroup('2', 1), inGroup('3', 1));
    const d = device(11, [1]);
    const old = await sets.shared(d);
    await removeUsers(store, '2');
    const deletedAt = clock.now;
    clock.advance(60_000);
    await putUsers(store, inGroup('4', 1));
    assert.equal(await store.pruneTombstones(deletedAt + 1), 1);
    assert.ok((await store.feedHorizon()) > old.seq + 1, 'the delete of 2, after the set, is gone from the feed');

    const again = await sets.shared(d);
    assert.equal(seen.scans, 2);
    assert.deepEqual(ids(again), ['1', '3', '4'], 'the scan sees the delete the feed lost');
    assert.equal(again.seq, store.currentSeq());
  });

  withSets("a device's own refusals and deletions go into its leaveAlone, not into the shared set", async ({ sets, store, parts }) => {
    await putUsers(store, inGroup('1', 1), inGroup('2', 1), inGroup('3', 1), inGroup('4', 1));
    const hash = async (id: string) => deviceProjectionHash((await store.getUser(id))!);
    const overlays: Partial<DeviceRecord> = {
      rejectedUsers: { '1': { hash: await hash('1'), reason: 'too many fingerprints' }, '2': { hash: 'an older version', reason: 'too many fingerprints' } },
      deletedAtDevice: { '3': await hash('3'), '4': 'an older version' },
    };
    const withOverlays = device(11, [1], overlays);
    const plain = device(12, [1]);

    parts.reconfigure({ deviceDeletes: 'keep-deleted' });
    const mine = await sets.of(withOverlays);
    assert.deepEqual([...mine.leaveAlone].sort(), ['1', '3'], 'the version refused, and the user deleted at the device unchanged since');
    assert.deepEqual([...mine.expected.keys()].sort(), ['1', '2', '3', '4'], 'expected stays what devices placed alike should hold');
    assert.deepEqual([...(await sets.of(plain)).leaveAlone], [], 'the other device of the placement has none');
    assert.equal(await sets.shared(plain), await sets.shared(withOverlays), 'overlays do not split the shared set');
    assert.deepEqual([...(await sets.shared(withOverlays)).leaveAlone], []);

    parts.reconfigure({ deviceDeletes: 'restore' });
    assert.deepEqual([...(await sets.of(withOverlays)).leaveAlone], ['1'], 'restore: a user deleted at the device is given back');
  });

  withSets(`sets unused for ${EXPECTED_SET_IDLE_MS} ms are dropped, by the manual clock`, async ({ sets, store, seen, clock }) => {
    await putUsers(store, inGroup('1', 1), inGroup('2', 2));
    const first = await sets.shared(device(11, [1]));
    clock.advance(EXPECTED_SET_IDLE_MS / 2);
    await sets.shared(device(12, [2]));
    clock.advance(EXPECTED_SET_IDLE_MS / 2);
    sets.dropIdle(clock.now);
    assert.equal(sets.size, 2, `unused for exactly ${EXPECTED_SET_IDLE_MS} ms: kept`);
    sets.dropIdle(clock.now + 1);
    assert.equal(sets.size, 1, 'the first is dropped, the second (used later) kept');
    assert.equal(seen.scans, 2);
    const again = await sets.shared(device(11, [1]));
    assert.notEqual(again, first);
    assert.equal(seen.scans, 3, 'a dropped set is scanned again');
    await sets.shared(device(12, [2]));
    assert.equal(seen.scans, 3, 'the kept one was not');
    sets.dropIdle(clock.advance(EXPECTED_SET_IDLE_MS + 1));
    assert.equal(sets.size, 0, 'an idle daemon holds none');
  });

  withSets(`at most ${EXPECTED_SETS} sets are kept; the least lately used goes`, async ({ sets, store, seen }) => {
    const groups = Array.from({ length: EXPECTED_SETS + 1 }, (_, i) => i + 1);
    await putUsers(store, ...groups.map((g) => inGroup(String(g), g)));
    for (const g of groups.slice(0, EXPECTED_SETS)) await sets.shared(device(g, [g]));
    assert.equal(sets.size, EXPECTED_SETS);
    await sets.shared(device(1, [1])); // used again: now the latest
    await sets.shared(device(EXPECTED_SETS + 1, [EXPECTED_SETS + 1]));
    assert.equal(sets.size, EXPECTED_SETS);
    assert.equal(seen.scans, EXPECTED_SETS + 1);
    await sets.shared(device(1, [1]));
    assert.equal(seen.scans, EXPECTED_SETS + 1, 'the set used again was kept');
    await sets.shared(device(2, [2]));
    assert.equal(seen.scans, EXPECTED_SETS + 2, 'the least lately used was dropped');
  });
});
