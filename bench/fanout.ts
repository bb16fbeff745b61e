/**
 * Benchmark 2, fan-out: U users to N simulated devices (the simulator in its own process)
 * until every device acknowledged, i.e. until the sync engine's cursor of every device is
 * at the head of the change feed.
 *
 * Measured: the users committed to the store in one commit, then the real SyncEngine and
 * gsdk transport carry them to the devices (the clock starts when the commit returns).
 * Baselines in the same run, on the same simulator process:
 *  - floor: the same users in pre-encoded EnrollMulti batches of the engine's batch size,
 *    sent one after another straight to the simulator;
 *  - naive: one Enroll per user per device, one call at a time, as G-SDK's example code
 *    does. A million calls at 100 devices would take most of an hour, so it runs on the
 *    first k users of every device and is scaled to U (the cost per call is flat; the
 *    note says k).
 * Devices are emptied (DeleteAllMulti) before each run; rollcall and floor runs alternate.
 *
 * `--stores level,postgres`: the rollcall rounds once on each store, one after the other on
 * the same simulator (a throwaway PostgreSQL server started for the run: Debian's package,
 * initdb in a temp dir, its durable defaults; a fresh schema per fleet). The postgres figure
 * is then also set against the LevelDB figure of the same run.
 *
 *   node dist/bench/fanout.js [--quick] [--users 10000] [--devices 10,50,100] [--repeat 2] [--naive-calls 10000] [--stores level[,postgres]]
 */
import { startPostgresServer, type PostgresServer } from '../test/helpers/postgres-server.js';
import { toUserInfo } from '../plugins/transports/gsdk/user-info.js';
import { UserService } from '../proto/gen/gsdk/user.js';
import { emptyDevices, encodeEnrollBatches, sendEnrollBatches, userCounts } from './lib/device-ops.js';
import { EngineRig, defaultSyncConfig, until } from './lib/engine-rig.js';
import { GatewayClient } from './lib/gateway-client.js';
import { ownCpuSeconds } from './lib/process-stats.js';
import { runIfMain, type BenchContext, type BenchDefinition, type BenchOutcome } from './lib/run.js';
import type { ResultRow } from './lib/results.js';
import { startSimProcess } from './lib/sim-process.js';
import { siteUser } from './lib/site-users.js';
import { costRatio, round } from './lib/stats.js';

interface Sizes {
  users: number;
  devices: number[];
  repeat: number;
  naiveCalls: number;
  mode: string;
  stores: StoreName[];
}

type StoreName = 'level' | 'postgres';

function sizes(ctx: BenchContext): Sizes {
  const quick = ctx.profile === 'quick';
  const number = (key: string, fallback: number): number => (typeof ctx.values[key] === 'string' ? Number(ctx.values[key]) : fallback);
  const list = typeof ctx.values['devices'] === 'string' ? (ctx.values['devices'] as string).split(',').map(Number) : quick ? [10] : [10, 50, 100];
  return {
    users: number('users', quick ? 1000 : 10_000),
    devices: list,
    repeat: number('repeat', 2),
    naiveCalls: number('naive-calls', 10_000),
    mode: typeof ctx.values['mode'] === 'string' ? (ctx.values['mode'] as string) : 'all-devices',
    stores: storeNames(ctx.values['stores']),
  };
}

function storeNames(value: unknown): StoreName[] {
  if (typeof value !== 'string') return ['level'];
  const names = value.split(',').map((n) => n.trim());
  for (const name of names) if (name !== 'level' && name !== 'postgres') throw new Error(`--stores: unknown store ${name} (level, postgres)`);
  return names as StoreName[];
}

/** One store's rollcall rounds. */
interface StoreRounds {
  rollcallSeconds: number[];
  commitSeconds: number[];
  rollcallCpuSeconds: number[];
}

interface FleetResult extends StoreRounds {
  devices: number;
  floorSeconds: number[];
  naive: { users: number; calls: number; seconds: number; scaledSeconds: number };
  simPeakRssBytes: number;
  /** Every store's rounds (the fields above are the first store's). */
  byStore: Partial<Record<StoreName, StoreRounds>>;
}

/** The rig's store options for `store`; a fresh schema per fleet on the run's server. */
function storeOptions(store: StoreName, server: PostgresServer | undefined, n: number): { postgres?: Record<string, unknown> } {
  if (store === 'level') return {};
  if (!server) throw new Error('the postgres store needs the run\'s server');
  return { postgres: { host: server.socketDir, port: server.port, user: server.user, database: server.database, schema: `fanout_${n}`, startRetryMs: 0 } };
}

async function fleet(ctx: BenchContext, s: Sizes, n: number, server: PostgresServer | undefined): Promise<FleetResult> {
  const sim = await startSimProcess({ devices: n, heapMb: 4096 });
  const gateway = new GatewayClient(sim.address);
  let rig: EngineRig | undefined;
  try {
    await gateway.ready();
    const ids = sim.deviceIds;
    const batch = defaultSyncConfig().batch.maxUsers;
    const result: FleetResult = { devices: n, rollcallSeconds: [], floorSeconds: [], naive: { users: 0, calls: 0, seconds: 0, scaledSeconds: 0 }, commitSeconds: [], rollcallCpuSeconds: [], simPeakRssBytes: 0, byStore: {} };
    const expectAll = async (what: string): Promise<void> => {
      const counts = await userCounts(gateway, ids);
      const wrong = counts.filter((c) => c !== s.users).length;
      if (wrong > 0) throw new Error(`${what}: ${wrong} of ${n} devices do not hold ${s.users} users (e.g. ${counts.find((c) => c !== s.users)})`);
    };

    for (const storeName of s.stores) {
      const rounds: StoreRounds = { rollcallSeconds: [], commitSeconds: [], rollcallCpuSeconds: [] };
      result.byStore[storeName] = rounds;
      await emptyDevices(gateway, ids);
      rig = await EngineRig.start({ address: sim.address, mode: s.mode, followEvents: s.mode === 'all-devices-with-device-updates', ...storeOptions(storeName, server, n) });
      const started = rig;
      await until(`${n} devices connected and checked`, () => started.settled(n), { timeoutMs: 60_000, intervalMs: 20 });
      for (let r = 1; r <= s.repeat; r++) {
        // A new version of every user each round, so each round is a full fan-out.
        const users = Array.from({ length: s.users }, (_, i) => siteUser(i, r));

        await emptyDevices(gateway, ids);
        const committing = performance.now();
        const head = await rig.commitUsers(users, users.length);
        const t0 = performance.now();
        const cpu0 = ownCpuSeconds();
        const t1 = await until(`every device to acknowledge seq ${head}`, () => started.acknowledged(head), {
          timeoutMs: 600_000,
          detail: () => JSON.stringify(started.engine.status().filter((d) => d.cursor < head).slice(0, 3)),
        });
        rounds.rollcallCpuSeconds.push(ownCpuSeconds() - cpu0);
        rounds.commitSeconds.push((t0 - committing) / 1000);
        rounds.rollcallSeconds.push((t1 - t0) / 1000);
        await expectAll(`rollcall round ${r} (${storeName})`);
        ctx.log(`${n} devices, round ${r}, ${storeName} store: rollcall ${round((t1 - t0) / 1000)} s (commit ${round((t0 - committing) / 1000)} s before it)`);

        await emptyDevices(gateway, ids);
        const requests = encodeEnrollBatches(ids, users, batch);
        const f0 = performance.now();
        await sendEnrollBatches(gateway, requests);
        const f1 = performance.now();
        result.floorSeconds.push((f1 - f0) / 1000);
        await expectAll(`floor round ${r}`);
        ctx.log(`${n} devices, round ${r}: floor ${round((f1 - f0) / 1000)} s`);
      }
      await rig.stop();
      rig = undefined;
    }
    Object.assign(result, result.byStore[s.stores[0]!]);

    await emptyDevices(gateway, ids);
    const k = Math.max(1, Math.min(s.users, Math.ceil(s.naiveCalls / n)));
    const infos = Array.from({ length: k }, (_, i) => toUserInfo(siteUser(i, 1)));
    const n0 = performance.now();
    for (const deviceID of ids) {
      for (const info of infos) await gateway.call(UserService.enroll, { deviceID, users: [info], overwrite: true });
    }
    const n1 = performance.now();
    const seconds = (n1 - n0) / 1000;
    result.naive = { users: k, calls: k * n, seconds, scaledSeconds: seconds * (s.users / k) };
    ctx.log(`${n} devices: naive ${round(seconds)} s for ${k} users × ${n} devices → ${round(result.naive.scaledSeconds)} s for ${s.users}`);
    return result;
  } finally {
    await rig?.stop();
    gateway.close();
    const { peakRssBytes } = await sim.stop();
    ctx.log(`${n} devices: simulator peak RSS ${round(peakRssBytes / 2 ** 20)} MiB`);
  }
}

export const fanout: BenchDefinition = {
  name: 'fanout',
  title: 'Fan-out',
  options: {
    users: { type: 'string' },
    devices: { type: 'string' },
    repeat: { type: 'string' },
    'naive-calls': { type: 'string' },
    mode: { type: 'string' },
    stores: { type: 'string' },
  },
  async run(ctx): Promise<BenchOutcome> {
    const s = sizes(ctx);
    const results: FleetResult[] = [];
    const server = s.stores.includes('postgres') ? await startPostgresServer({ durable: true }) : undefined;
    try {
      for (const n of s.devices) results.push(await fleet(ctx, s, n, server));
    } finally {
      await server?.stop();
    }
    const rows: ResultRow[] = [];
    const usersText = s.users >= 1000 ? `${s.users / 1000}k` : String(s.users);
    for (const r of results) {
      const rollcall = Math.min(...r.rollcallSeconds);
      const floor = Math.min(...r.floorSeconds);
      const floorRatio = costRatio(rollcall, floor);
      rows.push({
        figure: `${usersText} users → ${r.devices} devices,${s.stores[0] === 'postgres' ? ' postgres store,' : ''} until every device acknowledged`,
        measured: { value: rollcall, unit: 's' },
        baseline: { value: floor, unit: 's', label: 'floor: pre-built EnrollMulti batches' },
        ratio: floorRatio,
        budget: { text: '≤ 1.5× floor', pass: floorRatio <= 1.5 },
      });
      const naiveRatio = costRatio(rollcall, r.naive.scaledSeconds);
      const speedup = 1 / naiveRatio;
      rows.push({
        figure: `${usersText} users → ${r.devices} devices, against the naive way (${round(speedup)}× faster)`,
        measured: { value: rollcall, unit: 's' },
        baseline: { value: r.naive.scaledSeconds, unit: 's', label: `naive: one Enroll per user per device; ${r.naive.calls.toLocaleString('en-US')} calls timed, scaled to ${usersText} users` },
        ratio: naiveRatio,
        ...(r.devices === 100 ? { budget: { text: '≥ 20× faster than naive (ratio ≤ 0.05)', pass: speedup >= 20 } } : {}),
      });
      const level = r.byStore.level;
      const postgres = r.byStore.postgres;
      if (postgres && s.stores[0] !== 'postgres') {
        const seconds = Math.min(...postgres.rollcallSeconds);
        const ratio = costRatio(seconds, floor);
        rows.push({
          figure: `${usersText} users → ${r.devices} devices, postgres store, until every device acknowledged`,
          measured: { value: seconds, unit: 's' },
          baseline: { value: floor, unit: 's', label: 'floor: pre-built EnrollMulti batches' },
          ratio,
        });
      }
      if (postgres && level) {
        const seconds = Math.min(...postgres.rollcallSeconds);
        const ratio = costRatio(seconds, Math.min(...level.rollcallSeconds));
        rows.push({
          figure: `${usersText} users → ${r.devices} devices, postgres store against the LevelDB store`,
          measured: { value: seconds, unit: 's' },
          baseline: { value: Math.min(...level.rollcallSeconds), unit: 's', label: 'the same fan-out on the LevelDB store, same run' },
          ratio,
          budget: { text: '≤ 1.25× LevelDB', pass: ratio <= 1.25 },
        });
      }
    }
    const notes = [
      `Sync mode ${s.mode}${s.mode === 'all-devices-with-device-updates' ? ' with the device-event follower' : ' (no device-event follower)'}; the daemon's default sync settings (batch ${defaultSyncConfig().batch.maxUsers} users, concurrency ${defaultSyncConfig().concurrency}).`,
      `Simulator in its own process (\`rollcall sim --devices N\`); the engine, the store and the baselines' client in the benchmark's process; devices emptied before every run.`,
      `Stores: ${s.stores.map((n) => (n === 'level' ? 'LevelDB in a temp dir' : 'postgres on a throwaway PostgreSQL server of the run (Debian package, unix socket, durable defaults: fsync and synchronous_commit on), a fresh schema per fleet, pool size the default')).join('; ')}${s.stores.length > 1 ? '; each store\'s rounds run with their own engine, one store after the other, floor rounds between' : ''}.`,
      ...(s.stores.length > 1
        ? [`Every store's rounds: ${results.map((r) => `${r.devices} devices ${s.stores.map((n) => `${n} [${(r.byStore[n]?.rollcallSeconds ?? []).map(round).join(', ')}] s (commit ${round(Math.min(...(r.byStore[n]?.commitSeconds ?? [0])))} s)`).join(', ')}`).join('; ')}.`]
        : []),
      `rollcall's clock starts when the one commit of all ${s.users} users has returned (the commit took ${results.map((r) => `${round(Math.min(...r.commitSeconds))} s at ${r.devices}`).join(', ')}) and stops when the last cursor reaches the head (polled every 2 ms).`,
      `Each figure is the best of ${s.repeat} round(s); rollcall and floor rounds alternate. All rounds: ${results.map((r) => `${r.devices} devices rollcall [${r.rollcallSeconds.map(round).join(', ')}] s, floor [${r.floorSeconds.map(round).join(', ')}] s`).join('; ')}.`,
      `The naive way is timed on the first ${results.map((r) => `${r.naive.users} users (${r.devices} devices)`).join(', ')} of every device, one call in flight, and scaled linearly to ${s.users} users.`,
    ];
    return { rows, notes, details: { sizes: s, results } };
  },
};

runIfMain(import.meta.url, fanout);
