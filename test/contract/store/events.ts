/** The event log: IDs, times, and queries through every filter. */
import assert from 'node:assert/strict';
import type { EventQuery, Mutation, NewEvent, StoredEvent } from '../../../daemon/plugins/api.js';
import { anyKind, event, putUser, type Harness } from './harness.js';

/** A log whose times do not follow its IDs (events may carry a device's own time). */
const log: NewEvent[] = [
  { kind: 'user.update.server', message: 'User update succeeded (Server)', userId: 'alice', at: 1000 },
  { kind: 'user.update.device', message: 'User update succeeded (Device)', userId: 'alice', deviceId: 10, at: 2000 },
  { kind: 'sync.enroll.failed', message: 'enroll failed', userId: 'bob', deviceId: 10, at: 1500, detail: { code: 5 } },
  { kind: anyKind('sync.delete.failed'), message: 'delete failed', userId: 'bob', deviceId: 20, at: 3000 },
  { kind: 'merge.conflict', message: 'conflict', userId: 'alice!x', at: 3000, detail: { field: 'name', lost: 'A' } },
  { kind: 'import.done', message: 'import done', at: 4000 },
  { kind: anyKind('sync'), message: 'bare kind', userId: 'a', deviceId: 20, at: 500 },
  { kind: anyKind('sync.enroll.ok'), message: 'enrolled', userId: 'alice', deviceId: 20, at: 4000 },
  { kind: 'user.update.server', message: 'User update succeeded (Server)', userId: 'é', deviceId: 10, at: 0 },
  { kind: anyKind('syncx'), message: 'not in sync.', userId: 'bob', at: 2500 },
];

async function writeLog(store: { commit(m: Mutation[]): Promise<unknown> }): Promise<void> {
  // Several commits, so IDs must continue across them.
  await store.commit(log.slice(0, 4).map((e) => ({ type: 'appendEvent', event: e })));
  await store.commit(log.slice(4, 5).map((e) => ({ type: 'appendEvent', event: e })));
  await store.commit(log.slice(5).map((e) => ({ type: 'appendEvent', event: e })));
}

/** The meaning of a query, written out plainly, to hold the backends' indexes to. */
function expected(all: StoredEvent[], q: EventQuery): number[] {
  const ids = all
    .filter((e) => q.afterId === undefined || e.id > q.afterId)
    .filter((e) => q.since === undefined || e.at >= q.since)
    .filter((e) => q.until === undefined || e.at < q.until)
    .filter((e) => q.userId === undefined || e.userId === q.userId)
    .filter((e) => q.deviceId === undefined || e.deviceId === q.deviceId)
    .filter((e) => q.kind === undefined || (q.kind.endsWith('.') ? e.kind.startsWith(q.kind) : e.kind === q.kind))
    .map((e) => e.id);
  return q.limit === undefined ? ids : ids.slice(0, q.limit);
}

export function eventTests({ it }: Harness): void {
  it('appendEvent gives increasing IDs, keeps what it was given and fills at with the commit time', async ({ store }) => {
    const before = Date.now();
    await store.commit([putUser('a'), event('user.update.server', { userId: 'a' })]);
    await store.commit([event('sync.ack', { deviceId: 7, detail: { batch: 3, users: ['a'] }, at: 42 })]);
    const after = Date.now();
    const [first, second] = await store.queryEvents();
    const [change] = await store.changesSince(0);
    assert.deepEqual(first, { id: 1, kind: 'user.update.server', message: 'message of user.update.server', at: change!.at, userId: 'a' });
    assert.ok(first!.at >= before && first!.at <= after);
    assert.deepEqual(second, {
      id: 2,
      kind: 'sync.ack',
      message: 'message of sync.ack',
      at: 42,
      deviceId: 7,
      detail: { batch: 3, users: ['a'] },
    });
  });

  it('queries by each filter return matches in ID order', async ({ store }) => {
    await writeLog(store);
    const ids = async (q: EventQuery) => (await store.queryEvents(q)).map((e) => e.id);
    assert.deepEqual(await ids({}), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(await ids({ userId: 'alice' }), [1, 2, 8]);
    assert.deepEqual(await ids({ userId: 'alice!x' }), [5]);
    assert.deepEqual(await ids({ userId: 'é' }), [9]);
    assert.deepEqual(await ids({ userId: 'nobody' }), []);
    assert.deepEqual(await ids({ deviceId: 10 }), [2, 3, 9]);
    assert.deepEqual(await ids({ kind: 'sync.' }), [3, 4, 8]);
    assert.deepEqual(await ids({ kind: 'sync' }), [7]);
    assert.deepEqual(await ids({ kind: 'user.update.server' }), [1, 9]);
    assert.deepEqual(await ids({ since: 1500, until: 3000 }), [2, 3, 10]);
    assert.deepEqual(await ids({ since: 3000 }), [4, 5, 6, 8]);
    assert.deepEqual(await ids({ until: 1000 }), [7, 9]);
    assert.deepEqual(await ids({ since: 1499.5, until: 1500.5 }), [3]);
    assert.deepEqual(await ids({ until: 0 }), []);
    assert.deepEqual(await ids({ since: 5000 }), []);
    assert.deepEqual(await ids({ afterId: 5, limit: 2 }), [6, 7]);
    assert.deepEqual(await ids({ userId: 'bob', kind: 'sync.' }), [3, 4]);
    assert.deepEqual(await ids({ deviceId: 20, since: 1000 }), [4, 8]);
    assert.deepEqual(await ids({ since: 1500, until: 3000, limit: 2 }), [2, 3]);
    assert.deepEqual(await ids({ kind: 'user.update.server', deviceId: 10 }), [9]);
    assert.deepEqual(await ids({ limit: 0 }), []);
    assert.deepEqual(await ids({ afterId: 10 }), []);
  });

  it('every combination of filters selects what the query says', async ({ store }) => {
    await writeLog(store);
    const all = await store.queryEvents();
    assert.equal(all.length, log.length);
    const users = [undefined, 'alice', 'bob', 'nobody'];
    const devices = [undefined, 10, 20];
    const kinds = [undefined, 'sync.', 'user.update.server', 'sync'];
    const sinces = [undefined, 1500];
    const untils = [undefined, 3000];
    const afterIds = [undefined, 3];
    const limits = [undefined, 2];
    let checked = 0;
    for (const userId of users)
      for (const deviceId of devices)
        for (const kind of kinds)
          for (const since of sinces)
            for (const until of untils)
              for (const afterId of afterIds)
                for (const limit of limits) {
                  const q: EventQuery = {};
                  if (userId !== undefined) q.userId = userId;
                  if (deviceId !== undefined) q.deviceId = deviceId;
                  if (kind !== undefined) q.kind = kind;
                  if (since !== undefined) q.since = since;
                  if (until !== undefined) q.until = until;
                  if (afterId !== undefined) q.afterId = afterId;
                  if (limit !== undefined) q.limit = limit;
                  const got = (await store.queryEvents(q)).map((e) => e.id);
                  assert.deepEqual(got, expected(all, q), JSON.stringify(q));
                  checked += 1;
                }
    assert.equal(checked, 768);
  });

  it('a follower paging with afterId and limit sees every event once, in order', async ({ store }) => {
    await writeLog(store);
    const seen: number[] = [];
    let afterId = 0;
    for (;;) {
      const page = await store.queryEvents({ afterId, limit: 3 });
      if (page.length === 0) break;
      seen.push(...page.map((e) => e.id));
      afterId = page[page.length - 1]!.id;
    }
    assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await store.commit([event('late')]);
    assert.deepEqual(
      (await store.queryEvents({ afterId })).map((e) => [e.id, e.kind]),
      [[11, 'late']],
    );
  });

  it('many events of one user or device are all found through the indexes', async ({ store }) => {
    const mutations: Mutation[] = [];
    for (let i = 0; i < 700; i++) {
      mutations.push(event(i % 2 === 0 ? 'sync.enroll.ok' : 'user.update.server', { userId: `u${i % 7}`, deviceId: i % 3, at: 10_000 - i }));
    }
    await store.commit(mutations);
    const forUser = await store.queryEvents({ userId: 'u3' });
    assert.equal(forUser.length, 100);
    assert.ok(forUser.every((e, i) => e.userId === 'u3' && (i === 0 || e.id > forUser[i - 1]!.id)));
    const forDevice = await store.queryEvents({ deviceId: 1, kind: 'sync.' });
    assert.deepEqual(
      forDevice.map((e) => e.id),
      Array.from({ length: 700 }, (_, i) => i)
        .filter((i) => i % 3 === 1 && i % 2 === 0)
        .map((i) => i + 1),
    );
    const window = await store.queryEvents({ since: 9_500, until: 9_800, limit: 50 });
    assert.deepEqual(
      window.map((e) => e.id),
      Array.from({ length: 50 }, (_, i) => 202 + i),
    );
  });
}
