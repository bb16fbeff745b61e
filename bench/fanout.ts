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
 * Then the issue's large figure (issue 14 item 3): 500k users to 10 devices, one round of
 * each, against the same floor in the same run (`--large-users 0` skips it; quick runs do).
 *
 * `--stores level,postgres`: the rollcall rounds once on each store, one after the other on
 * the same simulator, each store with an engine of its own (a throwaway PostgreSQL server
 * started for the run: Debian's package, initdb in a temp dir, its durable defaults; a fresh
 * schema per fleet). The postgres figure is then also set against the LevelDB figure of the
 * same run. The large figure runs on the first store named only (a second 500k-user round
 * would double the longest part of the run).
 *
 *   node dist/bench/fanout.js [--quick] [--users 10000] [--devices 10,50,100] [--repeat 2] [--naive-calls 10000]
 *                             [--large-users 500000] [--large-devices 10] [--stores level[,postgres]]
 */
import { startPostgresServer, type PostgresServer } from '../test/helpers/postgres-server.js';
import { toUserInfo } from '../plugins/transports/gsdk/user-info.js';
import { UserService } from '../proto/gen/gsdk/user.js';
import { emptyDevices, encodeEnrollBatches, sendEnrollBatches, userCounts } from './lib/device-ops.js';
import { storeDescription, storeNames, storeOptions, type StoreName } from './lib/bench-stores.js';
import { EngineRig, defaultSyncConfig, until } from './lib/engine-rig.js';
import { GatewayClient } from './lib/gateway-client.js';
import { kernelUnits, ownCpuSeconds } from './lib/process-stats.js';
import { runIfMain, type BenchContext, type BenchDefinition, type BenchOutcome } from './lib/run.js';
import type { ResultRow } from './lib/results.js';
import { startSimProcess } from './lib/sim-process.js';
import { profileWindow } from './lib/window-profile.js';
import { siteUser } from './lib/site-users.js';
import { costRatio, round } from './lib/stats.js';

interface Sizes {
  users: number;
  devices: number[];
  repeat: number;
  naiveCalls: number;
  mode: string;
  /** The issue's large figure: this many users (0: not run) to `largeDevices` devices, one round, no naive run. */
  largeUsers: number;
  largeDevices: number;
  /** The stores the rollcall rounds run on, one after the other; the first one's figures are the main rows. */
  stores: StoreName[];
}

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
    largeUsers: number('large-users', quick ? 0 : 500_000),
    largeDevices: number('large-devices', 10),
    stores: storeNames(ctx.values['stores']),
  };
}

/** One store's rollcall rounds. */
interface StoreRounds {
  rollcallSeconds: number[];
  commitSeconds: number[];
  rollcallCpuSeconds: number[];
  /** CPU of the simulator process during each rollcall round. */
  simCpuRollcallSeconds: number[];
  /** Shared calls cut at their soft deadline in each rollcall round (sent again in parts). */
  cutCalls: number[];
}

interface FleetResult extends StoreRounds {
  devices: number;
  /** Floor rounds: `repeat` after each store's rollcall rounds. */
  floorSeconds: number[];
  naive: { users: number; calls: number; seconds: number; scaledSeconds: number };
  /** CPU of the simulator process during each floor round. */
  simCpuFloorSeconds: number[];
  /** CPU of the benchmark's own process during each floor round (the baseline's client). */
  floorCpuSeconds: number[];
  simPeakRssBytes: number;
  /** Every store's rounds (the StoreRounds fields above are the first store's). */
  byStore: Partial<Record<StoreName, StoreRounds>>;
}

interface FleetOptions {
  naive: boolean;
  /** The run's PostgreSQL server, when a store is postgres. */
  server: PostgresServer | undefined;
  /** The postgres store's schema for this fleet (fresh, so the store starts empty). */
  schema: string;
}

async function fleet(ctx: BenchContext, s: Sizes, n: number, options: FleetOptions): Promise<FleetResult> {
  // 10 devices × 500k users take the simulator about 2 GiB.
  const sim = await startSimProcess({ devices: n, heapMb: s.users * n > 2_000_000 ? 8192 : 4096 });
  const gateway = new GatewayClient(sim.address);
  const ticks = kernelUnits().ticksPerSecond;
  const simCpu = (): number => {
    const stat = sim.stat();
    return (stat.utime + stat.stime) / ticks;
  };
  const result: FleetResult = {
    ...{ devices: n, rollcallSeconds: [], floorSeconds: [], naive: { users: 0, calls: 0, seconds: 0, scaledSeconds: 0 }, commitSeconds: [], rollcallCpuSeconds: [] },
    ...{ simCpuRollcallSeconds: [], simCpuFloorSeconds: [], floorCpuSeconds: [], cutCalls: [], simPeakRssBytes: 0, byStore: {} },
  };
  let rig: EngineRig | undefined;
  try {
    await gateway.ready();
    const ids = sim.deviceIds;
    const batch = defaultSyncConfig().batch.maxUsers;
    const expectAll = async (what: string): Promise<void> => {
      const counts = await userCounts(gateway, ids);
      const wrong = counts.filter((c) => c !== s.users).length;
      if (wrong > 0) throw new Error(`${what}: ${wrong} of ${n} devices do not hold ${s.users} users (e.g. ${counts.find((c) => c !== s.users)})`);
    };

    for (const storeName of s.stores) {
      const rounds: StoreRounds = { rollcallSeconds: [], commitSeconds: [], rollcallCpuSeconds: [], simCpuRollcallSeconds: [], cutCalls: [] };
      result.byStore[storeName] = rounds;
      await emptyDevices(gateway, ids);
      rig = await EngineRig.start({ address: sim.address, mode: s.mode, followEvents: s.mode === 'all-devices-with-device-updates', ...storeOptions(storeName, options.server, options.schema) });
      const started = rig;
      const cutCalls = async (): Promise<number> => (await started.engine.metrics.cutCalls.get()).values.reduce((sum, v) => sum + v.value, 0);
      await until(`${n} devices connected and checked`, () => started.settled(n), { timeoutMs: 60_000, intervalMs: 20 });

      for (let r = 1; r <= s.repeat; r++) {
        // A new version of every user each round, so each round is a full fan-out.
        const users = Array.from({ length: s.users }, (_, i) => siteUser(i, r));

        await emptyDevices(gateway, ids);
        const committing = performance.now();
        const head = await started.commitUsers(users, users.length);
        const cuts0 = await cutCalls();
        const t0 = performance.now();
        const cpu0 = ownCpuSeconds();
        const sim0 = simCpu();
        const profile = await profileWindow(`fanout-${n}-${storeName}-${r}`);
        const t1 = await until(`every device to acknowledge seq ${head}`, () => started.acknowledged(head), {
          timeoutMs: Math.max(600_000, s.users * n * 0.5),
          detail: () => JSON.stringify(started.engine.status().filter((d) => d.cursor < head).slice(0, 3)),
        });
        await profile.stop();
        rounds.rollcallCpuSeconds.push(ownCpuSeconds() - cpu0);
        rounds.simCpuRollcallSeconds.push(simCpu() - sim0);
        rounds.cutCalls.push((await cutCalls()) - cuts0);
        rounds.commitSeconds.push((t0 - committing) / 1000);
        rounds.rollcallSeconds.push((t1 - t0) / 1000);
        await expectAll(`rollcall round ${r} (${storeName})`);
        ctx.log(
          `${n} devices, round ${r}, ${storeName} store: rollcall ${round((t1 - t0) / 1000)} s (commit ${round((t0 - committing) / 1000)} s before it; CPU: engine ${round(rounds.rollcallCpuSeconds.at(-1)!)} s, simulator ${round(rounds.simCpuRollcallSeconds.at(-1)!)} s; ${rounds.cutCalls.at(-1)} calls cut)`,
        );

        await emptyDevices(gateway, ids);
        const requests = encodeEnrollBatches(ids, users, batch);
        const f0 = performance.now();
        const fcpu0 = ownCpuSeconds();
        const fsim0 = simCpu();
        await sendEnrollBatches(gateway, requests);
        const f1 = performance.now();
        result.floorCpuSeconds.push(ownCpuSeconds() - fcpu0);
        result.simCpuFloorSeconds.push(simCpu() - fsim0);
        result.floorSeconds.push((f1 - f0) / 1000);
        await expectAll(`floor round ${r}`);
        ctx.log(`${n} devices, round ${r}: floor ${round((f1 - f0) / 1000)} s (CPU: client ${round(result.floorCpuSeconds.at(-1)!)} s, simulator ${round(result.simCpuFloorSeconds.at(-1)!)} s)`);
      }
      await rig.stop();
      rig = undefined;
    }
    Object.assign(result, result.byStore[s.stores[0]!]);

    await emptyDevices(gateway, ids);
    if (!options.naive) return result;
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
    result.simPeakRssBytes = peakRssBytes;
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
    'large-users': { type: 'string' },
    'large-devices': { type: 'string' },
    stores: { type: 'string' },
  },
  async run(ctx): Promise<BenchOutcome> {
    const s = sizes(ctx);
    const results: FleetResult[] = [];
    let large: FleetResult | undefined;
    const server = s.stores.includes('postgres') ? await startPostgresServer({ durable: true }) : undefined;
    try {
      for (const [i, n] of s.devices.entries()) results.push(await fleet(ctx, s, n, { naive: true, server, schema: `fanout_${i}_${n}` }));
      // The large figure on the first store only (see the header).
      const largeSizes = { ...s, users: s.largeUsers, repeat: 1, stores: s.stores.slice(0, 1) };
      if (s.largeUsers > 0) large = await fleet(ctx, largeSizes, s.largeDevices, { naive: false, server, schema: `fanout_large_${s.largeDevices}` });
    } finally {
      await server?.stop();
    }
    const storeText = s.stores[0] === 'postgres' ? ' postgres store,' : '';
    const rows: ResultRow[] = [];
    const countText = (users: number) => (users >= 1000 ? `${users / 1000}k` : String(users));
    const usersText = countText(s.users);
    const multiStore = s.stores.length > 1;
    const storeRoundsText = (name: StoreName, rounds: StoreRounds | undefined) =>
      `${name} [${(rounds?.rollcallSeconds ?? []).map(round).join(', ')}] s (commit ${round(Math.min(...(rounds?.commitSeconds ?? [0])))} s; CPU engine ${(rounds?.rollcallCpuSeconds ?? []).map(round).join(', ')} s + simulator ${(rounds?.simCpuRollcallSeconds ?? []).map(round).join(', ')} s; calls cut ${(rounds?.cutCalls ?? []).join(', ')})`;
    const cpuText = (r: FleetResult) =>
      `${r.devices} devices${r === large ? ` (${s.largeUsers} users)` : ''}: engine ${r.rollcallCpuSeconds.map(round).join(', ')} s + simulator ${r.simCpuRollcallSeconds.map(round).join(', ')} s; floor client ${r.floorCpuSeconds.map(round).join(', ')} s + simulator ${r.simCpuFloorSeconds.map(round).join(', ')} s; calls cut ${r.cutCalls.join(', ')}`;
    for (const r of results) {
      const rollcall = Math.min(...r.rollcallSeconds);
      const floor = Math.min(...r.floorSeconds);
      const floorRatio = costRatio(rollcall, floor);
      rows.push({
        figure: `${usersText} users → ${r.devices} devices,${storeText} until every device acknowledged`,
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
      if (!postgres) continue;
      const postgresSeconds = Math.min(...postgres.rollcallSeconds);
      if (s.stores[0] !== 'postgres') {
        rows.push({
          figure: `${usersText} users → ${r.devices} devices, postgres store, until every device acknowledged`,
          measured: { value: postgresSeconds, unit: 's' },
          baseline: { value: floor, unit: 's', label: 'floor: pre-built EnrollMulti batches' },
          ratio: costRatio(postgresSeconds, floor),
        });
      }
      if (level) {
        const levelSeconds = Math.min(...level.rollcallSeconds);
        const ratio = costRatio(postgresSeconds, levelSeconds);
        rows.push({
          figure: `${usersText} users → ${r.devices} devices, postgres store against the LevelDB store`,
          measured: { value: postgresSeconds, unit: 's' },
          baseline: { value: levelSeconds, unit: 's', label: 'the same fan-out on the LevelDB store, same run' },
          ratio,
          budget: { text: '≤ 1.25× LevelDB', pass: ratio <= 1.25 },
        });
      }
    }
    if (large) {
      const rollcall = large.rollcallSeconds[0]!;
      const floor = large.floorSeconds[0]!;
      const ratio = costRatio(rollcall, floor);
      rows.push({
        figure: `${countText(s.largeUsers)} users → ${large.devices} devices,${storeText} until every device acknowledged`,
        measured: { value: rollcall, unit: 's' },
        baseline: { value: floor, unit: 's', label: 'floor: pre-built EnrollMulti batches' },
        ratio,
        budget: { text: '≤ 1.5× floor', pass: ratio <= 1.5 },
      });
    }
    const notes = [
      `Sync mode ${s.mode}${s.mode === 'all-devices-with-device-updates' ? ' with the device-event follower' : ' (no device-event follower)'}; the daemon's default sync settings (batch ${defaultSyncConfig().batch.maxUsers} users, concurrency ${defaultSyncConfig().concurrency}).`,
      `Simulator in its own process (\`rollcall sim --devices N\`); the engine, the store and the baselines' client in the benchmark's process; devices emptied before every run.`,
      `Stores: ${s.stores.map(storeDescription).join('; ')}${multiStore ? "; each store's rounds run with their own engine, one store after the other, floor rounds between; the rows naming no store, and the rollcall rounds and CPU seconds in the notes below, are the first store's (the floor's are every floor round)" : ''}.`,
      ...(multiStore ? [`Every store's rounds: ${results.map((r) => `${r.devices} devices ${s.stores.map((n) => storeRoundsText(n, r.byStore[n])).join(', ')}`).join('; ')}.`] : []),
      `rollcall's clock starts when the one commit of all ${s.users} users has returned (the commit took ${results.map((r) => `${round(Math.min(...r.commitSeconds))} s at ${r.devices}`).join(', ')}) and stops when the last cursor reaches the head (polled every 2 ms).`,
      `Each figure is the best of ${s.repeat} round(s); rollcall and floor rounds alternate. All rounds: ${results.map((r) => `${r.devices} devices rollcall [${r.rollcallSeconds.map(round).join(', ')}] s, floor [${r.floorSeconds.map(round).join(', ')}] s`).join('; ')}.`,
      ...(large
        ? [`The ${countText(s.largeUsers)}-user figure (issue 14): one round of each, rollcall first (${s.stores[0]} store${multiStore ? ' only' : ''}), the same one commit before the clock (it took ${round(large.commitSeconds[0]!)} s); no naive run; simulator peak RSS ${round(large.simPeakRssBytes / 2 ** 20)} MiB.`]
        : []),
      `CPU seconds per round (rollcall's engine process, its store's and V8's threads included but not a PostgreSQL server's processes, and the simulator's process; against the floor's client and the simulator): ${[...results, ...(large ? [large] : [])].map(cpuText).join('; ')}. On a loaded machine the wall-clock ratio tends to the CPU ratio.`,
      `The naive way is timed on the first ${results.map((r) => `${r.naive.users} users (${r.devices} devices)`).join(', ')} of every device, one call in flight, and scaled linearly to ${s.users} users.`,
    ];
    return { rows, notes, details: { sizes: s, results } };
  },
};

runIfMain(import.meta.url, fanout);
