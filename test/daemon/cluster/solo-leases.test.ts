/**
 * Leases on a store one process opens (daemon/store/solo-leases.ts), through the memory and
 * LevelDB stores: every lease is granted at once, for ever, at epoch 1; a fenced commit goes
 * through with that fence and is refused whole (ROLLCALL_ERR_LEASE_LOST) with any other,
 * so the engine's fences mean the same on every store.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isRollcallError } from '../../../daemon/errors.js';
import { emptyUser } from '../../../daemon/model/user.js';
import type { Store } from '../../../daemon/plugins/api.js';
import { openMemoryStore, tempLevelStore } from '../../helpers/stores.js';

const put = (id: string) => ({ type: 'putUser' as const, user: { ...emptyUser(id), name: id }, origin: { kind: 'server' as const } });

async function checkSolo(store: Store): Promise<void> {
  assert.equal(store.leases.shared, false);
  const taken = await store.leases.acquire('me', [3, 1, 2], 1000);
  assert.deepEqual(taken.map((l) => [l.deviceId, l.epoch, l.ttlMs]), [
    [3, 1, Infinity],
    [1, 1, Infinity],
    [2, 1, Infinity],
  ]);
  assert.deepEqual(await store.leases.acquire('other', [1], 1000), [], 'held leases are not taken by another name');
  assert.equal((await store.leases.renew('me', [{ deviceId: 1, epoch: 1 }], 1000)).length, 1);

  await store.commit([put('ok'), { type: 'setCursor', deviceId: 1, seq: 1 }], { fences: [{ deviceId: 1, owner: 'me', epoch: 1 }] });
  assert.ok(await store.getUser('ok'));
  for (const fence of [
    { deviceId: 1, owner: 'me', epoch: 2 },
    { deviceId: 1, owner: 'other', epoch: 1 },
    { deviceId: 9, owner: 'me', epoch: 1 },
  ]) {
    await assert.rejects(store.commit([put('refused')], { fences: [fence] }), (error: unknown) => isRollcallError(error, 'ROLLCALL_ERR_LEASE_LOST'));
  }
  assert.equal(await store.getUser('refused'), undefined, 'a refused commit leaves nothing');
  await assert.rejects(store.commit([put('x')], { fences: [{ deviceId: 1, owner: '', epoch: 1 }] }), (error: unknown) => isRollcallError(error, 'ROLLCALL_ERR_STORE_INVALID_ARGUMENT'));

  await store.leases.leave('me');
  assert.deepEqual((await store.leases.list()).leases, []);
  await assert.rejects(store.commit([put('after-leave')], { fences: [{ deviceId: 1, owner: 'me', epoch: 1 }] }), (error: unknown) => isRollcallError(error, 'ROLLCALL_ERR_LEASE_LOST'));
}

test('solo leases on the memory store', async () => {
  const store = await openMemoryStore();
  try {
    await checkSolo(store);
  } finally {
    await store.stop();
  }
});

test('solo leases on the LevelDB store', async () => {
  const temp = await tempLevelStore();
  try {
    await checkSolo(temp.store);
  } finally {
    await temp.cleanup();
  }
});
