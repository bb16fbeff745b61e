/**
 * Reliability suite 7, a gateway outage during an import with PINs (issue 15, item 4). The
 * gateway is the simulator in its own process (`rollcall sim`); the outage is that process
 * stopped, and the recovery the same gateway started again on the same port. The drop
 * folder hashes PINs through the real gsdk transport over loopback gRPC.
 *
 * Before: the PIN rows failed with "the gateway could not hash the PIN", the file was
 * recorded as imported, and the same file dropped again was skipped as a duplicate: those
 * rows were lost for good. Now the import waits in processing/ and goes on when the
 * gateway answers, or, stopped while it waits, resumes from its checkpoint at the next
 * start. Either way every PIN row arrives exactly once.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { pino } from 'pino';
import { Metrics } from '../../daemon/obs/metrics.js';
import type { Store } from '../../daemon/plugins/api.js';
import { configSchema } from '../../plugins/transports/gsdk/schema.js';
import { GsdkTransport } from '../../plugins/transports/gsdk/transport.js';
import { standInPinHash } from '../../simulator/index.js';
import { SpoolHarness, until } from '../helpers/ingest-spool.js';
import { SimProcess } from '../helpers/sim-process.js';
import { tempLevelStore } from '../helpers/stores.js';

const PINS = new Map([
  ['7001', '4815162342'],
  ['7002', '27182818'],
  ['7003', '16180339'],
]);
const FILE = ['user_id,name,pin', ...[...PINS].map(([id, pin]) => `${id},Pin ${id},${pin}`), '7004,No Pin,', ''].join('\r\n');
/** Short waits, so the test sees several tries while the gateway is away. */
const PIN_RETRY = { baseMs: 50, factor: 1.6, maxMs: 400 };

async function startTransport(address: string): Promise<{ transport: GsdkTransport; stop: () => Promise<void> }> {
  const abort = new AbortController();
  const transport = new GsdkTransport(
    { logger: pino({ level: 'silent' }), metrics: new Metrics(), signal: abort.signal, dataDir: '/nonexistent', lookup: () => undefined },
    // The channel reconnects quickly once the gateway is back (grpc-js backs off up to 120 s by default).
    configSchema.parse({ address, insecure: true, deadlines: { defaultMs: 2000 } }),
  );
  await transport.start(abort.signal);
  return {
    transport,
    stop: async () => {
      abort.abort();
      await transport.stop();
    },
  };
}

/** Every PIN row is stored once, with the gateway's hash; the row without a PIN too. */
async function assertImportedOnce(store: Store): Promise<void> {
  for (const [id, pin] of PINS) {
    const user = await store.getUser(id);
    assert.equal(user?.pinHash, standInPinHash(pin).toString('base64'), `user ${id} has the gateway's hash of its PIN`);
  }
  assert.ok(await store.getUser('7004'));
  assert.equal(await store.countUsers(), 4);
  // One putUser per user: each row was committed once.
  const changes = await store.changesSince(0, { limit: 100 });
  assert.equal(changes.length, 4);
}

describe('reliability: a gateway outage while PINs are hashed', () => {
  test('the import waits in processing/ while the gateway is away and goes on when it answers; the same file again is a duplicate', { timeout: 120_000 }, async () => {
    let sim = await SimProcess.start(1, 1001);
    const port = Number(sim.address.split(':').at(-1));
    const { transport, stop } = await startTransport(sim.address);
    const h = await SpoolHarness.start({ stableMs: 50, pinRetry: PIN_RETRY, hashPin: (pin, options) => transport.hashPin(pin, options) });
    try {
      await sim.stop();
      await h.drop('pins.csv', FILE);
      await until('the import waits for the gateway', () => h.folder.status().current?.waitingForGatewaySince !== undefined);
      assert.match(h.folder.health().detail ?? '', /waiting since .* for the gateway to hash PINs/);
      assert.deepEqual(await readdir(h.path('processing')).then((n) => n.filter((x) => !x.startsWith('.'))), ['pins.csv']);
      assert.equal(h.reports.length, 0);
      assert.equal(await h.store.countUsers(), 0, 'nothing of the waiting batch is committed');

      sim = await SimProcess.start(1, 1001, port);
      const [report] = await h.reportsAtLeast(1, 60_000);
      assert.equal(report!.state, 'done', JSON.stringify(report));
      assert.deepEqual(report!.rows, { imported: 4, unchanged: 0, failed: 0 });
      assert.ok(report!.notes.some((n) => /the gateway could not be reached to hash PINs .* no row was lost/.test(n)), JSON.stringify(report!.notes));
      await assertImportedOnce(h.store);

      await h.drop('pins-again.csv', FILE);
      const [, again] = await h.reportsAtLeast(2);
      assert.equal(again!.state, 'duplicate');
      assert.equal((await h.store.changesSince(0, { limit: 100 })).length, 4, 'nothing applied twice');
      for (const pin of PINS.values()) assert.ok(!h.logLines.join('\n').includes(pin), 'a PIN in the logs');
    } finally {
      await h.stop();
      await stop();
      await sim.stop();
    }
  });

  test('stopped while it waits for the gateway, the import stays in processing/ and the next start imports every PIN row once', { timeout: 120_000 }, async () => {
    let sim = await SimProcess.start(1, 1001);
    const port = Number(sim.address.split(':').at(-1));
    const stored = await tempLevelStore();
    let transport = await startTransport(sim.address);
    let h = await SpoolHarness.start({ stableMs: 50, stored, pinRetry: PIN_RETRY, hashPin: (pin, options) => transport.transport.hashPin(pin, options) });
    const spoolDir = h.spoolDir;
    try {
      await sim.stop();
      await h.drop('pins.csv', FILE);
      const first = h;
      await until('the import waits for the gateway', () => first.folder.status().current?.waitingForGatewaySince !== undefined);
      await first.folder.stop();
      await transport.stop();
      assert.equal(first.reports.length, 0);
      assert.deepEqual(await readdir(first.path('processing')).then((n) => n.filter((x) => !x.startsWith('.'))), ['pins.csv']);
      const [running] = await stored.store.listImports({ state: 'running' });
      assert.ok(running, 'the import is recorded as running, to be resumed');
      assert.equal(await stored.store.countUsers(), 0);

      sim = await SimProcess.start(1, 1001, port);
      transport = await startTransport(sim.address);
      h = await SpoolHarness.start({ stableMs: 50, stored, spoolDir, pinRetry: PIN_RETRY, hashPin: (pin, options) => transport.transport.hashPin(pin, options) });
      const [report] = await h.reportsAtLeast(1, 60_000);
      assert.equal(report!.state, 'done', JSON.stringify(report));
      assert.deepEqual(report!.rows, { imported: 4, unchanged: 0, failed: 0 });
      await assertImportedOnce(stored.store);
    } finally {
      await h.stop();
      await transport.stop();
      await sim.stop();
      await stored.cleanup();
      await rm(spoolDir, { recursive: true, force: true });
    }
  });
});
