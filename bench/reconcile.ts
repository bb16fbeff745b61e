/**
 * Benchmark 4, reconcile: one device holding U users of which 1 % drifted (a third
 * missing, a third with another card count, a third unknown to the database). Measured:
 * the engine's check with repair (`engine.verify({ deviceId, repair: true })`, the cheap
 * check: GetList headers, repair, GetList again to confirm), its time and the bytes on
 * the wire, counted by a TCP proxy between the gsdk transport and the simulator.
 *
 * Baseline in the same run, through the same proxy, after the same drift is made again:
 * the minimum a reconcile must move, done by a bare client that already knows the
 * expected headers: one GetList, EnrollMulti of the missing and changed users, DeleteMulti
 * of the unknown ones. The bare protobuf payloads of those calls are reported too.
 *
 * Then, in the same run, the header check of a large device (lib/large-check.ts: 500,000
 * users with the default gateway config, ≤ 5 s), against one bare GetList of it.
 *
 *   node dist/bench/reconcile.js [--quick] [--users 100000] [--drift 0.01] [--large-users 500000]
 */
import type { User } from '../daemon/model/user.js';
import { toUserInfo } from '../plugins/transports/gsdk/user-info.js';
import {
  DeleteMultiRequest,
  DeleteMultiResponse,
  EnrollMultiRequest,
  GetListResponse,
  UserService,
} from '../proto/gen/gsdk/user.js';
import { ByteCountingProxy, type WireBytes } from './lib/byte-proxy.js';
import { driftOf, type Drift } from './lib/drift.js';
import { encodeEnrollBatches, populateDevices, sendEnrollBatches, userCounts } from './lib/device-ops.js';
import { EngineRig, defaultSyncConfig, until } from './lib/engine-rig.js';
import { GatewayClient } from './lib/gateway-client.js';
import { measureLargeCheck } from './lib/large-check.js';
import { runIfMain, type BenchContext, type BenchDefinition, type BenchOutcome } from './lib/run.js';
import { startSimProcess } from './lib/sim-process.js';
import { siteUsers } from './lib/site-users.js';
import { costRatio, round } from './lib/stats.js';

const DEVICE = 1001;

/** Makes the device drift from the database, with plain gsdk calls straight to the simulator. */
async function applyDrift(gateway: GatewayClient, drift: Drift): Promise<void> {
  const deleted = await gateway.call(UserService.deleteMulti, DeleteMultiRequest.fromPartial({ deviceIDs: [DEVICE], userIDs: drift.missing }));
  if (deleted.deviceErrors.some((e) => e.code !== 0)) throw new Error('could not delete the missing users');
  await sendEnrollBatches(gateway, encodeEnrollBatches([DEVICE], [...drift.changed, ...drift.extra], 1000));
}

interface Header {
  cards: number;
  fingers: number;
  faces: number;
}

/** The least a reconcile can do: read the headers, enroll what is missing or different, delete what is unknown. */
async function minimalReconcile(client: GatewayClient, expected: Map<string, Header>, byId: Map<string, User>, batch: number): Promise<{ payloadBytes: number }> {
  const list = await client.call(UserService.getList, { deviceID: DEVICE });
  let payloadBytes = GetListResponse.encode(list).finish().length;
  const seen = new Set<string>();
  const enroll: User[] = [];
  const remove: string[] = [];
  for (const hdr of list.hdrs) {
    seen.add(hdr.ID);
    const want = expected.get(hdr.ID);
    if (!want) remove.push(hdr.ID);
    else if (want.cards !== hdr.numOfCard || want.fingers !== hdr.numOfFinger || want.faces !== hdr.numOfFace) enroll.push(byId.get(hdr.ID)!);
  }
  for (const id of expected.keys()) if (!seen.has(id)) enroll.push(byId.get(id)!);
  for (let i = 0; i < enroll.length; i += batch) {
    const request = EnrollMultiRequest.fromPartial({ deviceIDs: [DEVICE], users: enroll.slice(i, i + batch).map((u) => toUserInfo(u)), overwrite: true });
    const bytes = Buffer.from(EnrollMultiRequest.encode(request).finish());
    payloadBytes += bytes.length;
    await sendEnrollBatches(client, [bytes]);
  }
  if (remove.length > 0) {
    const request = DeleteMultiRequest.fromPartial({ deviceIDs: [DEVICE], userIDs: remove });
    payloadBytes += DeleteMultiRequest.encode(request).finish().length;
    const response: DeleteMultiResponse = await client.call(UserService.deleteMulti, request);
    if (response.deviceErrors.some((e) => e.code !== 0)) throw new Error('DeleteMulti failed');
  }
  return { payloadBytes };
}

const total = (b: WireBytes): number => b.sent + b.received;

export const reconcile: BenchDefinition = {
  name: 'reconcile',
  title: 'Reconcile',
  options: {
    users: { type: 'string' },
    drift: { type: 'string' },
    'large-users': { type: 'string' },
  },
  async run(ctx: BenchContext): Promise<BenchOutcome> {
    const quick = ctx.profile === 'quick';
    const u = Number(ctx.values['users'] ?? (quick ? 10_000 : 100_000));
    const share = Number(ctx.values['drift'] ?? 0.01);
    const users = siteUsers(u);
    const drift = driftOf(users, share);
    const driftCount = drift.missing.length + drift.changed.length + drift.extra.length;
    const sim = await startSimProcess({ devices: 1 });
    const proxy = new ByteCountingProxy(sim.address);
    const gateway = new GatewayClient(sim.address);
    let rig: EngineRig | undefined;
    let minimal: GatewayClient | undefined;
    try {
      await proxy.start();
      await gateway.ready();
      ctx.log(`filling the device with ${u} users`);
      await populateDevices(gateway, [DEVICE], users, 1000);
      ctx.log('seeding the store and checking the device once (in sync)');
      rig = await EngineRig.start({ address: proxy.address, mode: 'all-devices', followEvents: false }, async (store) => {
        for (let i = 0; i < users.length; i += 5000) {
          await store.commit(users.slice(i, i + 5000).map((user) => ({ type: 'putUser' as const, user, origin: { kind: 'server' as const, by: 'bench' } })));
        }
      });
      const started = rig;
      await until('the device to be checked in sync', () => started.settled(1), { timeoutMs: 300_000, intervalMs: 20 });

      await applyDrift(gateway, drift);
      proxy.reset();
      const t0 = performance.now();
      const [result] = await rig.engine.verify({ deviceId: DEVICE, repair: true });
      const t1 = performance.now();
      const measuredBytes = proxy.counts();
      if (!result?.inSync || result.differences !== driftCount) throw new Error(`the check did not repair the drift: ${JSON.stringify(result)}`);
      const [afterEngine] = await userCounts(gateway, [DEVICE]);
      if (afterEngine !== u) throw new Error(`after the engine's repair the device holds ${afterEngine} users, not ${u}`);
      ctx.log(`engine: ${round((t1 - t0) / 1000)} s, ${total(measuredBytes)} bytes`);

      await applyDrift(gateway, drift);
      await rig.stop();
      rig = undefined;
      minimal = new GatewayClient(proxy.address);
      await minimal.ready();
      const expected = new Map(users.map((user) => [user.id, { cards: user.cards.length, fingers: user.fingers.length, faces: user.faces.length }]));
      const byId = new Map(users.map((user) => [user.id, user]));
      proxy.reset();
      const b0 = performance.now();
      const { payloadBytes } = await minimalReconcile(minimal, expected, byId, defaultSyncConfig().batch.maxUsers);
      const b1 = performance.now();
      const baselineBytes = proxy.counts();
      const [afterBaseline] = await userCounts(gateway, [DEVICE]);
      if (afterBaseline !== u) throw new Error(`after the minimal reconcile the device holds ${afterBaseline} users, not ${u}`);
      ctx.log(`minimal: ${round((b1 - b0) / 1000)} s, ${total(baselineBytes)} bytes`);

      const seconds = (t1 - t0) / 1000;
      const baseSeconds = (b1 - b0) / 1000;
      const byteRatio = costRatio(total(measuredBytes), total(baselineBytes));
      const usersText = u >= 1000 ? `${u / 1000}k` : String(u);
      const largeUsers = Number(ctx.values['large-users'] ?? (quick ? 20_000 : 500_000));
      const large = largeUsers > 0 ? await measureLargeCheck(ctx, largeUsers) : undefined;
      return {
        rows: [
          {
            figure: `bytes on the wire, ${usersText} users, ${round(share * 100)} % drift (${driftCount} users)`,
            measured: { value: total(measuredBytes), unit: 'B' },
            baseline: { value: total(baselineBytes), unit: 'B', label: 'minimum: header list plus the drifted users' },
            ratio: byteRatio,
            budget: { text: '≤ 2× the minimum', pass: byteRatio <= 2 },
          },
          {
            figure: `time to check and repair, ${usersText} users, ${driftCount} drifted`,
            measured: { value: seconds, unit: 's' },
            baseline: { value: baseSeconds, unit: 's', label: 'the minimal reconcile, expected headers known beforehand' },
            ratio: costRatio(seconds, baseSeconds),
            budget: { text: '≤ 10 s', pass: seconds <= 10 },
          },
          ...(large?.rows ?? []),
        ],
        notes: [
          `Drift: ${drift.missing.length} users deleted from the device, ${drift.changed.length} given a second card, ${drift.extra.length} unknown users enrolled (made with plain gsdk calls straight to the simulator, not through the proxy). The cheap check finds exactly these (IDs and credential counts), as the deep check would; a change that keeps the counts needs the deep check.`,
          `Sync mode all-devices, the daemon's default sync settings; the simulator (one device) in its own process; a TCP proxy on loopback counts what crosses between client and simulator, HTTP/2 framing included. rollcall: ${measuredBytes.sent} B sent, ${measuredBytes.received} B received; minimum: ${baselineBytes.sent} B sent, ${baselineBytes.received} B received. Bare protobuf payloads of the minimum: ${payloadBytes} B.`,
          `The engine's check reads the expected set from the store (counts and hashes of all ${u} users), lists the device's headers, repairs, and lists them again to confirm (ARCHITECTURE §4: in sync only after a check finds nothing); the second list is most of the difference to the minimum.`,
          `Check result: ${JSON.stringify(result)}.`,
          ...(large?.notes ?? []),
        ],
        details: { users: u, drift: share, measuredBytes, baselineBytes, payloadBytes, seconds, baselineSeconds: baseSeconds, result, large: large?.details },
      };
    } finally {
      await rig?.stop();
      minimal?.close();
      gateway.close();
      await proxy.stop();
      await sim.stop();
    }
  },
};

runIfMain(import.meta.url, reconcile);
