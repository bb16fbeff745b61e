/** Cursors, devices and the import ledger. */
import assert from 'node:assert/strict';
import { device, importRecord, putUser, snapshot, type Harness } from './harness.js';

export function ledgerTests({ it }: Harness): void {
  it('a cursor is 0 until set, then what was set last, per device', async ({ store }) => {
    await store.commit([putUser('a'), putUser('b'), putUser('c')]);
    assert.equal(await store.cursor(541234567), 0);
    await store.commit([
      { type: 'setCursor', deviceId: 541234567, seq: 3 },
      { type: 'setCursor', deviceId: 2, seq: 1 },
    ]);
    assert.equal(await store.cursor(541234567), 3);
    assert.equal(await store.cursor(2), 1);
    // A reconcile may move a cursor back.
    await store.commit([{ type: 'setCursor', deviceId: 541234567, seq: 0 }]);
    assert.equal(await store.cursor(541234567), 0);
    assert.equal(await store.cursor(2), 1);
  });

  it('a device put "if absent" is written only where the store holds none: a record written first stays', async ({ store }) => {
    await store.commit([{ type: 'putDevice', device: device(40, { lastEventId: 900, location: 'owner' }) }]);
    await store.commit([
      { type: 'putDevice', device: device(40, { lastEventId: 0, location: 'late finder' }), ifAbsent: true },
      { type: 'putDevice', device: device(41, { location: 'first finder' }), ifAbsent: true },
    ]);
    assert.equal((await store.getDevice(40))?.location, 'owner');
    assert.equal((await store.getDevice(40))?.lastEventId, 900);
    assert.equal((await store.getDevice(41))?.location, 'first finder');
    // In one commit after another write of the device, it is a plain put.
    await store.commit([
      { type: 'deleteDevice', deviceId: 41 },
      { type: 'putDevice', device: device(41, { location: 'again' }), ifAbsent: true },
    ]);
    assert.equal((await store.getDevice(41))?.location, 'again');
    await store.commit([
      { type: 'putDevice', device: device(42, { location: 'put' }) },
      { type: 'putDevice', device: device(42, { location: 'if absent' }), ifAbsent: true },
    ]);
    assert.equal((await store.getDevice(42))?.location, 'if absent');
  });

  it('devices are kept whole, listed by ID, replaced and deleted', async ({ store }) => {
    const full = device(30, {
      source: 'discovered',
      useSSL: true,
      location: 'Gate 3',
      accessGroups: [1, 2],
      type: 21,
      templateFormat: 1,
      useAlphanumericID: true,
      lastEventId: 1200,
      eventBaseline: { eventId: 1001, at: 1_699_999_999_000, reason: 'log-reset' },
      lastCheck: { at: 1_700_000_000_000, method: 'deep', inSync: false, differences: 4 },
      heldRemoval: { at: 1_700_000_000_001, removals: 900, holding: 1000, upToSeq: 0 },
    });
    await store.commit([
      { type: 'putDevice', device: full },
      { type: 'putDevice', device: device(2) },
      { type: 'putDevice', device: device(1000) },
    ]);
    assert.deepEqual(await store.getDevice(30), full);
    assert.equal(await store.getDevice(31), undefined);
    assert.deepEqual(
      (await store.listDevices()).map((d) => d.id),
      [2, 30, 1000],
    );
    await store.commit([{ type: 'putDevice', device: device(30, { lastEventId: 1300 }) }]);
    const replaced = await store.getDevice(30);
    assert.equal(replaced?.lastEventId, 1300);
    assert.equal(replaced?.location, undefined, 'a put replaces the whole record');
    await store.commit([
      { type: 'deleteDevice', deviceId: 2 },
      { type: 'deleteDevice', deviceId: 77 },
    ]);
    assert.deepEqual(
      (await store.listDevices()).map((d) => d.id),
      [30, 1000],
    );
  });

  it('deleting a device forgets its cursor; the last op on a device in a commit wins', async ({ store }) => {
    await store.commit([putUser('a'), putUser('b')]);
    await store.commit([
      { type: 'putDevice', device: device(1) },
      { type: 'putDevice', device: device(2) },
      { type: 'setCursor', deviceId: 1, seq: 2 },
      { type: 'setCursor', deviceId: 2, seq: 2 },
    ]);
    await store.commit([{ type: 'deleteDevice', deviceId: 1 }]);
    assert.equal(await store.getDevice(1), undefined);
    assert.equal(await store.cursor(1), 0);

    await store.commit([
      { type: 'deleteDevice', deviceId: 2 },
      { type: 'putDevice', device: device(2, { location: 'back' }) },
    ]);
    assert.equal((await store.getDevice(2))?.location, 'back');
    assert.equal(await store.cursor(2), 0);

    await store.commit([
      { type: 'putDevice', device: device(3) },
      { type: 'deleteDevice', deviceId: 3 },
      { type: 'setCursor', deviceId: 3, seq: 1 },
    ]);
    assert.equal(await store.getDevice(3), undefined);
    assert.equal(await store.cursor(3), 1);
  });

  it('the import ledger keeps records by hash, replaced as they checkpoint', async ({ store }) => {
    const hashA = 'a'.repeat(64);
    const hashB = 'b'.repeat(64);
    const hashC = 'c'.repeat(64);
    await store.commit([
      { type: 'putImport', record: importRecord(hashB, { startedAt: 2000 }) },
      { type: 'putImport', record: importRecord(hashA, { startedAt: 3000, state: 'done', finishedAt: 3500 }) },
      { type: 'putImport', record: importRecord(hashC, { startedAt: 1000, state: 'failed', reason: 'not a CSV' }) },
    ]);
    assert.deepEqual(
      (await store.listImports()).map((r) => r.hash),
      [hashC, hashB, hashA],
      'oldest first',
    );
    assert.deepEqual(
      (await store.listImports({ state: 'running' })).map((r) => r.hash),
      [hashB],
    );
    assert.deepEqual((await store.listImports({ state: 'failed' }))[0]?.reason, 'not a CSV');
    assert.equal(await store.getImport('d'.repeat(64)), undefined);

    const checkpoint = importRecord(hashB, { startedAt: 2000, checkpoint: 500, counts: { ok: 490, failed: 7, skipped: 3 } });
    await store.commit([{ type: 'putImport', record: checkpoint }]);
    assert.deepEqual(await store.getImport(hashB), checkpoint);
    assert.equal((await store.listImports()).length, 3);
  });

  it('an import checkpoint commits with its users, or neither does', async ({ store }) => {
    const hash = 'e'.repeat(64);
    const result = await store.commit([
      putUser('row-1'),
      putUser('row-2'),
      { type: 'putImport', record: importRecord(hash, { checkpoint: 2, counts: { ok: 2, failed: 0, skipped: 0 } }) },
    ]);
    assert.equal(result.seq, 2);
    assert.equal((await store.getImport(hash))?.checkpoint, 2);

    const before = await snapshot(store);
    await assert.rejects(
      store.commit([
        putUser('row-3'),
        { type: 'putImport', record: importRecord(hash, { checkpoint: 3 }) },
        { type: 'setCursor', deviceId: 1, seq: 99 },
      ]),
    );
    assert.deepEqual(await snapshot(store), before);
    assert.equal((await store.getImport(hash))?.checkpoint, 2);
  });
}
