/** Opening, closing, and what calls do when the store is not open. */
import assert from 'node:assert/strict';
import type { Store } from '../../../daemon/plugins/api.js';
import { collect, hasCode, putUser, rejectsWith, type Harness } from './harness.js';

/** Every call of the contract, made on a store that is not open. */
async function assertAllClosed(store: Store): Promise<void> {
  const closed = 'ROLLCALL_ERR_STORE_CLOSED';
  await rejectsWith(store.commit([putUser('a')]), closed, 'commit');
  await rejectsWith(store.getUser('a'), closed, 'getUser');
  await rejectsWith(store.getUsers(['a']), closed, 'getUsers');
  await rejectsWith(collect(store.scanUsers()), closed, 'scanUsers');
  await rejectsWith(store.countUsers(), closed, 'countUsers');
  assert.throws(() => store.currentSeq(), hasCode(closed), 'currentSeq');
  await rejectsWith(store.changesSince(0), closed, 'changesSince');
  await rejectsWith(store.feedHorizon(), closed, 'feedHorizon');
  await rejectsWith(store.waitForSeq(0), closed, 'waitForSeq');
  await rejectsWith(store.pruneTombstones(Date.now()), closed, 'pruneTombstones');
  await rejectsWith(store.cursor(1), closed, 'cursor');
  await rejectsWith(store.getDevice(1), closed, 'getDevice');
  await rejectsWith(store.listDevices(), closed, 'listDevices');
  await rejectsWith(store.getImport('ab'), closed, 'getImport');
  await rejectsWith(store.listImports(), closed, 'listImports');
  await rejectsWith(store.queryEvents(), closed, 'queryEvents');
  assert.equal(store.health?.().ok, false, 'health');
}

export function lifecycleTests({ it }: Harness): void {
  it('an open store reports healthy and empty', async ({ store }) => {
    assert.equal(store.health?.().ok, true);
    assert.equal(store.currentSeq(), 0);
    assert.equal(await store.countUsers(), 0);
    assert.deepEqual(await store.changesSince(0), []);
    assert.equal(await store.feedHorizon(), 0);
    assert.equal(await store.cursor(1), 0);
    assert.deepEqual(await store.listDevices(), []);
    assert.deepEqual(await store.listImports(), []);
    assert.deepEqual(await store.queryEvents(), []);
    assert.deepEqual(await collect(store.scanUsers()), []);
  });

  it('every call rejects with STORE_CLOSED once stopped, and start() opens it again with its data', async ({ store }) => {
    await store.commit([putUser('a')]);
    await store.stop();
    await assertAllClosed(store);
    await store.start();
    assert.equal(store.health?.().ok, true);
    assert.equal(store.currentSeq(), 1);
    assert.equal((await store.getUser('a'))?.id, 'a');
  });

  it('start and stop are idempotent, also when called together', async ({ store }) => {
    await Promise.all([store.start(), store.start()]);
    assert.equal(store.currentSeq(), 0);
    await Promise.all([store.stop(), store.stop()]);
    await store.stop();
    await assertAllClosed(store);
    await Promise.all([store.start(), store.start()]);
    assert.equal(store.health?.().ok, true);
  });

  it('start() refuses an aborted signal', async ({ store }) => {
    await store.stop();
    const controller = new AbortController();
    controller.abort(new Error('daemon stopping'));
    await assert.rejects(store.start(controller.signal), /daemon stopping/);
  });

  it('stop() lets commits already made finish first', async ({ store }) => {
    const commits = [store.commit([putUser('a')]), store.commit([putUser('b')]), store.commit([putUser('c')])];
    await store.stop();
    assert.deepEqual(
      (await Promise.all(commits)).map((r) => r.seq),
      [1, 2, 3],
    );
    await store.start();
    assert.equal(store.currentSeq(), 3);
    assert.equal(await store.countUsers(), 3);
  });

  it('a scan interrupted by stop() rejects with STORE_CLOSED', async ({ store }) => {
    await store.commit(['a', 'b', 'c', 'd'].map((id) => putUser(id)));
    const scan = store.scanUsers()[Symbol.asyncIterator]();
    assert.equal((await scan.next()).value?.id, 'a');
    await store.stop();
    await rejectsWith(scan.next(), 'ROLLCALL_ERR_STORE_CLOSED');
  });

  it('a scan left early releases the store', async ({ store }) => {
    await store.commit(['a', 'b', 'c', 'd'].map((id) => putUser(id)));
    for await (const user of store.scanUsers()) {
      if (user.id === 'b') break;
    }
    await store.commit([putUser('e')]);
    await store.stop();
    await store.start();
    assert.equal(await store.countUsers(), 5);
  });
}
