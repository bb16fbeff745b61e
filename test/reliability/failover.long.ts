/**
 * The failover suite (issue 16, item 4): three `rollcall run` on one PostgreSQL (a real
 * server) share 300 simulated devices (`rollcall sim` in its own process), with the default
 * lease settings (15 s, renewed every 5 s). Writes go on throughout (a user every 500 ms).
 * SIGKILL one instance; once its devices are served again, SIGSTOP another, during a fan-out,
 * for 40 s, then SIGCONT it. Figures (`# failover: …` lines):
 *
 * - how long until every device is served again after the SIGKILL and after the SIGSTOP
 *   (every device's cursor at a write committed just after the signal: the device
 *   acknowledged it), and until the resumed instance holds its share again;
 * - sync latency p99 before, during (2 s before the SIGKILL to the shares settled after
 *   SIGCONT) and after:
 *   per write and device from its commit until the device's cursor reached it (the device
 *   acknowledged it or a check found it equal), and each write's fan-out to all 300 devices;
 *   beside them the daemons' rollcall_sync_latency_seconds (feed batches, and the checks that move cursors: check-latency.ts);
 * - the simulator's log of who called each device (x-rollcall-instance, simulator/caller-log.ts)
 *   against the history of the leases (a trigger, test/helpers/lease-history.ts): no device
 *   called by two instances in one lease period, and no call by an instance without a live
 *   lease (the resumed one must not call a device it lost, not even once on waking);
 * - `rollcall verify --deep` afterwards: every device checked by its owner, all clean.
 *
 * With ROLLCALL_RECORD_RESULTS=1 the figures also go to bench/results/failover.json and
 * bench/RESULTS.md.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { emptyUser, type User } from '../../daemon/model/user.js';
import type { Store } from '../../daemon/plugins/api.js';
import { runCli } from '../helpers/daemon-process.js';
import { endClusterInstances, leaseShares, liveLeaseOwners, sharesAre, startClusterInstances, until, type ClusterInstance } from '../helpers/cluster-instances.js';
import { checkLeasePeriods, readLeaseHistory, recordLeaseHistory } from '../helpers/lease-history.js';
import { postgresSkipReason, startPostgresServer } from '../helpers/postgres-server.js';
import { freshSchema, postgresConfig, postgresStore } from '../helpers/postgres-stores.js';
import { SimProcess } from '../helpers/sim-process.js';
import { FanoutWatch, LatencyPhases } from './failover-figures.js';
import { recordFailoverRun } from './failover-results.js';

const DEVICES = 300;
const FIRST_ID = 2001;
const USERS = 200;
const TTL_MS = 15_000;
const RENEW_MS = 5_000;
const STOP_MS = 40_000;
const WRITE_EVERY_MS = 500;
const STEADY_MS = 15_000;
/** Between the before phase and the kill: longer than a fan-out takes, so no write of the before phase waits for the takeover. */
const QUIET_MS = 2_000;
/** The bound: devices of a lost instance are served again within 30 s of its last renewal. */
const TAKEOVER_BOUND_MS = 30_000;

const user = (id: string): User => ({ ...emptyUser(id), name: `user ${id}` });

const skip = postgresSkipReason();
if (skip !== undefined) {
  test('failover: 3 instances × 300 devices', { skip }, () => {});
} else {
  const server = await startPostgresServer();
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-failover-'));
  const sim = await SimProcess.start(DEVICES, FIRST_ID);
  const instances: ClusterInstance[] = [];
  let writer: Store | undefined;
  after(async () => {
    await endClusterInstances(instances);
    await writer?.stop();
    await sim.stop();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('failover: SIGKILL one of 3 instances, SIGSTOP another for 40 s: every device served again, no device called by two instances in one lease period, verify --deep clean', { timeout: 480_000 }, async () => {
    const began = Date.now();
    const schema = freshSchema();
    writer = postgresStore(postgresConfig(server, schema));
    await writer.start();
    await recordLeaseHistory(server, schema);
    const fanout = new FanoutWatch(server, schema, DEVICES);
    const put = async (id: string): Promise<number> => {
      const { seq } = await writer!.commit([{ type: 'putUser', user: user(id), origin: { kind: 'admin' } }]);
      fanout.committed(seq, Date.now());
      return seq;
    };
    await writer.commit(Array.from({ length: USERS }, (_, i) => ({ type: 'putUser' as const, user: user(String(1 + i)), origin: { kind: 'admin' as const } })));

    instances.push(...(await startClusterInstances({ dir, server, schema, gateway: sim.address, leaseTtlMs: TTL_MS, renewIntervalMs: RENEW_MS }, ['a', 'b', 'c'])));
    const [a, b, c] = instances as [ClusterInstance, ClusterInstance, ClusterInstance];
    const portsOf = (...live: ClusterInstance[]): Map<string, number> => new Map(live.map((i) => [i.id, i.httpPort]));
    const shares = (expected: Record<string, number>) => async (): Promise<true | undefined> => ((await sharesAre(server, schema, expected)) ? true : undefined);

    // 1. Up: 100 devices each, every device at the head of the feed.
    fanout.start();
    await until('100 devices per instance', shares({ a: 100, b: 100, c: 100 }), instances, { timeoutMs: 120_000, everyMs: 250 });
    const startSeq = await put('ready');
    const upMs = await fanout.reached(startSeq, 120_000);
    console.log(`# failover: up: 3 instances × 100 devices, ${USERS} users on every device ${((Date.now() - began) / 1000).toFixed(1)} s after the start (the last write's fan-out ${upMs} ms)`);

    // Writes from here to the end of the after phase.
    let writing = true;
    let written = 0;
    const writes = (async () => {
      while (writing) {
        await put(`w${++written}`);
        await sleep(WRITE_EVERY_MS);
      }
    })();

    const latency = new LatencyPhases();
    await latency.read('before', portsOf(a, b, c));
    const beforeFrom = Date.now();
    await sleep(STEADY_MS);
    // The writes of the last moments before the kill wait for its takeover: they count as during.
    const beforeTo = Date.now();
    await sleep(QUIET_MS);

    // 2. SIGKILL a.
    await latency.read('kill', portsOf(a, b, c));
    const aHeld = [...(await liveLeaseOwners(server, schema))].filter(([, o]) => o === 'a').map(([d]) => d);
    assert.equal(aHeld.length, 100);
    a.killed = true;
    a.daemon.child.kill('SIGKILL');
    const killedAt = Date.now();
    const killMarker = await put('after-kill');
    await until('a\'s devices taken by b and c', shares({ b: 150, c: 150 }), instances, { timeoutMs: 60_000, everyMs: 100 });
    const killLeasesMs = Date.now() - killedAt;
    const killServed = await fanout.servedSince(killMarker, killedAt, 60_000);
    console.log(`# failover: SIGKILL a: its 100 devices leased by b and c after ${(killLeasesMs / 1000).toFixed(1)} s, every device served again (acknowledged a write committed at the kill) after ${(killServed / 1000).toFixed(1)} s`);

    // 3. SIGSTOP b during a fan-out, for 40 s.
    const bPid = b.daemon.child.pid!;
    const stopMarker = await put('before-stop');
    await sleep(15);
    process.kill(bPid, 'SIGSTOP');
    const stoppedAt = Date.now();
    const bHeld = [...(await liveLeaseOwners(server, schema))].filter(([, o]) => o === 'b').map(([d]) => d);
    await until('b\'s devices taken by c', shares({ c: 300 }), [a, c], { timeoutMs: STOP_MS, everyMs: 100 });
    const stopLeasesMs = Date.now() - stoppedAt;
    const afterStop = await put('after-stop');
    const stopServedMs = await fanout.servedSince(afterStop, stoppedAt, STOP_MS);
    const stopMarkerMs = await fanout.reached(stopMarker, 1000);
    console.log(`# failover: SIGSTOP b (holding ${bHeld.length}): its devices leased by c after ${(stopLeasesMs / 1000).toFixed(1)} s, every device served again (acknowledged a write committed after the stop) ${(stopServedMs / 1000).toFixed(1)} s after the stop; the write in flight at the stop reached every device in ${(stopMarkerMs / 1000).toFixed(1)} s`);
    const resumeAt = stoppedAt + STOP_MS;
    await sleep(Math.max(0, resumeAt - Date.now()));

    // 4. SIGCONT: b learns it lost its leases, and takes its share back from c.
    process.kill(bPid, 'SIGCONT');
    const resumedAt = Date.now();
    await b.daemon.waitForLine((line) => typeof line['msg'] === 'string' && /^lost the lease of devices? .*(expired or taken)/.test(line['msg'] as string), 30_000);
    await until('b and c share again', shares({ b: 150, c: 150 }), instances, { timeoutMs: 60_000, everyMs: 100 });
    const rebalanceMs = Date.now() - resumedAt;
    const settled = await put('settled');
    const settledMs = await fanout.servedSince(settled, resumedAt, 60_000);
    console.log(`# failover: SIGCONT b after ${((resumedAt - stoppedAt) / 1000).toFixed(1)} s: shares 150/150 again after ${(rebalanceMs / 1000).toFixed(1)} s, every device at a write committed then after ${(settledMs / 1000).toFixed(1)} s`);
    const duringTo = Date.now();
    await latency.read('settled', portsOf(b, c));

    // 5. After: writes go on with the two instances.
    await sleep(STEADY_MS);
    await latency.read('after', portsOf(b, c));
    const afterTo = Date.now();
    writing = false;
    await writes;
    const last = await put('last');
    await fanout.reached(last, 60_000);
    await fanout.stop();

    // 6. verify --deep through each live instance: together they check every device, all clean.
    const verified = new Map<number, { inSync: boolean; error: string }>();
    const verifyStarted = Date.now();
    const verifyCodes: (number | null)[] = [];
    for (const i of [b, c]) {
      const run = await runCli(['verify', '--deep', '--json', '--config', i.config], { timeoutMs: 180_000 });
      let parsed: unknown;
      try {
        parsed = JSON.parse(run.stdout);
      } catch {
        assert.fail(`verify --deep on ${i.id}: exit ${run.code}, ${run.stderr} ${run.stdout}`);
      }
      const result = parsed as { deep: boolean; inSync: boolean; checks: { deviceId: number; inSync: boolean; error: string | null }[] };
      verifyCodes.push(run.code);
      assert.equal(result.deep, true);
      for (const check of result.checks) {
        assert.ok(!verified.has(check.deviceId), `device ${check.deviceId} checked by two instances`);
        verified.set(check.deviceId, { inSync: check.inSync, error: check.error ?? '' });
      }
    }
    const verifySeconds = (Date.now() - verifyStarted) / 1000;
    const unclean = [...verified].filter(([, v]) => !v.inSync || v.error !== '');
    console.log(`# failover: verify --deep: ${verified.size} devices checked (b and c), ${unclean.length} not clean, ${verifySeconds.toFixed(1)} s`);
    assert.deepEqual(unclean, [], 'every device clean');
    assert.deepEqual(verifyCodes, [0, 0], 'verify exits 0 on both');
    assert.deepEqual([...verified.keys()].sort((x, y) => x - y), sim.deviceIds);

    // 7. Who called each device, against the lease history.
    const callers = await sim.callers(sim.deviceIds);
    assert.ok(callers.every((d) => d.droppedRuns === 0), 'the caller log kept every run');
    const check = checkLeasePeriods(await readLeaseHistory(server, schema), callers);
    const callersSeen = new Set(callers.flatMap((d) => d.runs.map((r) => r.caller)));
    console.log(`# failover: caller log: ${check.calls} device calls in ${check.runs} runs on ${check.devices} devices (${check.handedOver} handed over), callers ${[...callersSeen].sort().join(', ')}; calls from two instances in one lease period: ${check.twoInstances.length}; calls without a live lease of the caller: ${check.outsideOwnLease.length}`);
    assert.deepEqual([...callersSeen].sort(), ['a', 'b', 'c'], 'every call named its instance');
    assert.equal(check.devices, DEVICES);
    assert.ok(check.handedOver >= new Set([...aHeld, ...bHeld]).size, `the devices of a and b changed hands (${check.handedOver})`);
    assert.deepEqual(check.twoInstances.slice(0, 5), [], 'no device called by two instances in one lease period');
    assert.deepEqual(check.outsideOwnLease.slice(0, 5), [], 'no device called by an instance without its live lease');

    // 8. Figures.
    const before = latency.p99('before', 'kill');
    const during = latency.p99('kill', 'settled');
    const afterwards = latency.p99('settled', 'after');
    const fanBefore = fanout.summary(beforeFrom, beforeTo);
    const fanDuring = fanout.summary(beforeTo, duringTo);
    const fanAfter = fanout.summary(duringTo, afterTo);
    const show = (p: ReturnType<LatencyPhases['p99']>): string => (p ? `${p.seconds.toFixed(3)} s (bucket ≤ ${p.bucketLe} s, ${p.count} acks)` : 'no acks');
    const phase = (f: ReturnType<FanoutWatch['summary']>): string => `p99 ${f.p99Ms} ms per device (${f.samples} write × device), fan-out p99 ${f.fanoutP99Ms} ms max ${f.fanoutMaxMs} ms (${f.writes} writes)`;
    console.log(`# failover: sync latency, commit → device cursor (every device's acknowledgement): before ${phase(fanBefore)}; during ${phase(fanDuring)}; after ${phase(fanAfter)}`);
    console.log(`# failover: sync latency p99 as the daemons' histogram counts it (feed batches and the checks that move cursors): before ${show(before)}, during ${show(during)}, after ${show(afterwards)}`);
    const suiteSeconds = (Date.now() - began) / 1000;
    console.log(`# failover: ${written} writes during the run; suite ${suiteSeconds.toFixed(0)} s`);
    assert.ok(killServed < TAKEOVER_BOUND_MS + RENEW_MS, `served again ${killServed} ms after the SIGKILL (bound: 30 s after the last renewal, at most one renew interval before the kill)`);
    assert.ok(stopServedMs < TAKEOVER_BOUND_MS + RENEW_MS, `served again ${stopServedMs} ms after the SIGSTOP`);
    assert.equal(fanDuring.unfinished + fanAfter.unfinished, 0);
    assert.ok(fanAfter.p99Ms < 2500, `sync latency p99 after the failover ${phase(fanAfter)}`);
    assert.ok(fanDuring.p99Ms < TAKEOVER_BOUND_MS + RENEW_MS, `sync latency p99 during the failover ${phase(fanDuring)}`);
    assert.deepEqual(await leaseShares(server, schema), { b: 150, c: 150 });

    await recordFailoverRun({
      suiteSeconds,
      killLeasesMs,
      killServedMs: killServed,
      stopLeasesMs,
      stopServedMs,
      rebalanceMs,
      settledMs,
      p99: { before, during, after: afterwards },
      fanout: { before: fanBefore, during: fanDuring, after: fanAfter },
      calls: check.calls,
      handedOver: check.handedOver,
      twoInstances: check.twoInstances.length,
      outsideOwnLease: check.outsideOwnLease.length,
      verified: verified.size,
      unclean: unclean.length,
      settings: { devices: DEVICES, users: USERS, leaseTtlMs: TTL_MS, renewIntervalMs: RENEW_MS, stopMs: STOP_MS, writeEveryMs: WRITE_EVERY_MS },
    });

    for (const i of [b, c]) {
      i.killed = true;
      i.daemon.child.kill('SIGTERM');
      assert.deepEqual(await i.daemon.exited, { code: 0, signal: null });
    }
  });
}
