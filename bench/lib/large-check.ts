/**
 * The header check of one large device (issue 14 item 5: 500,000 users, ≤ 5 s, the default
 * gateway config). The device (the simulator in its own process) and the database hold the
 * same users, and the device's cursor is at the head, as after a restart: then
 * `engine.verify({ deviceId })` is timed twice. The first (cold) check builds the expected
 * set by one scan of the store's user summaries (not the whole records) while the device's
 * list (User.GetList, one message of about 6 MB) is read; the second (warm) finds the set cached and brings it forward from the feed.
 * Baseline in the same run: one GetList by a bare client, the least any header check does.
 */
import { UserService } from '../../proto/gen/gsdk/user.js';
import { populateDevices } from './device-ops.js';
import { EngineRig } from './engine-rig.js';
import { GatewayClient } from './gateway-client.js';
import type { ResultRow } from './results.js';
import type { BenchContext } from './run.js';
import { startSimProcess } from './sim-process.js';
import { siteUsers } from './site-users.js';
import { costRatio, round } from './stats.js';

const DEVICE = 1001;
const CHUNK = 5_000;

export interface LargeCheck {
  rows: ResultRow[];
  notes: string[];
  details: { users: number; coldSeconds: number; warmSeconds: number; getListSeconds: number; listBytes: number };
}

export async function measureLargeCheck(ctx: BenchContext, users: number): Promise<LargeCheck> {
  const sim = await startSimProcess({ devices: 1 });
  const gateway = new GatewayClient(sim.address);
  let rig: EngineRig | undefined;
  try {
    await gateway.ready();
    ctx.log(`large device: filling the device and the store with ${users} users`);
    rig = await EngineRig.start(
      { address: sim.address, mode: 'all-devices', followEvents: false, sync: { reconcile: { onConnect: false, intervalMs: 0, deepIntervalMs: 0, pageSize: 100 } } },
      async (store) => {
        for (let first = 0; first < users; first += CHUNK) {
          const chunk = siteUsers(Math.min(CHUNK, users - first), first);
          await store.commit(chunk.map((user) => ({ type: 'putUser' as const, user, origin: { kind: 'server' as const, by: 'bench' } })));
          await populateDevices(gateway, [DEVICE], chunk, 1000);
        }
        await store.commit([
          { type: 'putDevice', device: { id: DEVICE, source: 'discovered', lastEventId: 0 } },
          { type: 'setCursor', deviceId: DEVICE, seq: store.currentSeq() },
        ]);
      },
    );
    const started = rig;
    const deadline = performance.now() + 60_000;
    while (!started.engine.devices.some((d) => d.id === DEVICE && d.connected)) {
      if (performance.now() > deadline) throw new Error('the large device never connected');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    const check = async (): Promise<number> => {
      const t0 = performance.now();
      const [result] = await started.engine.verify({ deviceId: DEVICE });
      const seconds = (performance.now() - t0) / 1000;
      if (!result?.inSync || result.error !== undefined) throw new Error(`the large device's check failed: ${JSON.stringify(result)}`);
      return seconds;
    };
    const coldSeconds = await check();
    const warmSeconds = await check();
    ctx.log(`large device: cold check ${round(coldSeconds)} s, warm ${round(warmSeconds)} s`);

    const g0 = performance.now();
    const list = await gateway.callEncoded(UserService.getList.path, Buffer.from(UserService.getList.requestSerialize({ deviceID: DEVICE })));
    const getListSeconds = (performance.now() - g0) / 1000;
    const usersText = `${users / 1000}k`;
    const budget = (seconds: number) => ({ text: '≤ 5 s', pass: seconds <= 5 });
    const baseline = { value: getListSeconds, unit: 's' as const, label: `one GetList by a bare client (${list.length} B)` };
    return {
      rows: [
        {
          figure: `header check of a ${usersText}-user device, first after start (store scan)`,
          measured: { value: coldSeconds, unit: 's' },
          baseline,
          ratio: costRatio(coldSeconds, getListSeconds),
          budget: budget(coldSeconds),
        },
        {
          figure: `header check of a ${usersText}-user device, expected set cached`,
          measured: { value: warmSeconds, unit: 's' },
          baseline,
          ratio: costRatio(warmSeconds, getListSeconds),
          budget: budget(warmSeconds),
        },
      ],
      notes: [
        `Large device: ${users} card-and-PIN users on one simulated device (its own process) and in the store, cursor at the head (as after a restart); the default gateway config (gateway.maxReceiveBytes 72 MiB: the device's list is one ${list.length}-byte message${list.length > 4 * 1024 * 1024 ? ', over the 4 MiB rollcall received before' : ''}). The first check builds the expected set from one scan of the store's user summaries (LevelDB format 3: one summary per user, written with it) while it reads the list; the second finds the set cached.`,
      ],
      details: { users, coldSeconds, warmSeconds, getListSeconds, listBytes: list.length },
    };
  } finally {
    await rig?.stop();
    gateway.close();
    await sim.stop();
  }
}
