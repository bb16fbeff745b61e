/**
 * Benchmark 5, idle: the real daemon (`rollcall run`, a child process) with N devices and
 * U users, all in sync, left alone for a window with no changes. Measured from outside,
 * from /proc/<pid>/stat sampled every second: the CPU share (of one core) and the resident
 * set over the window. Nothing scrapes the daemon during the window; /metrics is read
 * just before and just after it, to confirm that every device stayed in sync and to
 * count the gateway calls the daemon made while idle.
 *
 * Setup (not measured): the simulator in its own process, its devices filled with the users
 * by plain EnrollMulti calls; the daemon's LevelDB seeded through the level store before
 * the daemon starts with the same users and with what a daemon that synced these devices
 * would have kept (each device's cursor at the head and its last event ID), so that the
 * start is a restart of a synced site: every device is checked on connect and found in
 * sync. With --cold the device records are left out: the daemon adopts the devices as new
 * and reads their whole event logs (the setup's enrollments) before it is in sync.
 *
 * Baseline in the same run and window: a bare Node process that only waits.
 *
 *   node dist/bench/idle.js [--quick] [--devices 100] [--users 100000] [--seconds 60] [--cold]
 *                           [--daemon-cpu-prof DIR]   (the daemon runs under --cpu-prof)
 *                           [--daemon-heap-snapshot DIR]   (a heap snapshot of the daemon after the window)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { freeLoopbackPort } from './lib/daemon-run.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import type { Mutation } from '../daemon/plugins/api.js';
import { LevelStore } from '../plugins/storage/level/level-store.js';
import { ControlService } from '../proto/gen/rollcall/sim/v1/sim.js';
import { populateDevices } from './lib/device-ops.js';
import { until } from './lib/engine-rig.js';
import { GatewayClient } from './lib/gateway-client.js';
import { cliPath } from './lib/paths.js';
import { kernelUnits, readPeakRss, readProcStat, usageBetween, type ProcStat } from './lib/process-stats.js';
import { byLabel, parsePrometheusText, sumOf, type Sample } from './lib/prometheus-text.js';
import { runIfMain, type BenchContext, type BenchDefinition, type BenchOutcome } from './lib/run.js';
import { startSimProcess } from './lib/sim-process.js';
import { siteUsers } from './lib/site-users.js';
import { costRatio, round } from './lib/stats.js';

async function scrape(listen: string): Promise<Sample[]> {
  const response = await fetch(`http://${listen}/metrics`);
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  return parsePrometheusText(await response.text());
}

/** Keeps the last lines a child wrote, for an error message if it dies. */
function tail(child: ChildProcess): () => string {
  const lines: string[] = [];
  const keep = (d: Buffer): void => {
    lines.push(...d.toString().split('\n').filter((l) => l.trim() !== ''));
    if (lines.length > 20) lines.splice(0, lines.length - 20);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => lines.join('\n');
}

async function stopChild(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code] = (await exited) as [number | null];
  clearTimeout(timer);
  return code;
}

export const idle: BenchDefinition = {
  name: 'idle',
  title: 'Idle daemon',
  options: {
    devices: { type: 'string' },
    users: { type: 'string' },
    seconds: { type: 'string' },
    cold: { type: 'boolean' },
    'daemon-cpu-prof': { type: 'string' },
    'daemon-heap-snapshot': { type: 'string' },
  },
  async run(ctx: BenchContext): Promise<BenchOutcome> {
    const quick = ctx.profile === 'quick';
    const n = Number(ctx.values['devices'] ?? (quick ? 10 : 100));
    const u = Number(ctx.values['users'] ?? (quick ? 10_000 : 100_000));
    const windowSeconds = Number(ctx.values['seconds'] ?? (quick ? 10 : 60));
    const cold = ctx.values['cold'] === true;
    const units = kernelUnits();
    const dir = await mkdtemp(join(tmpdir(), 'rollcall-bench-idle-'));
    const sim = await startSimProcess({ devices: n, heapMb: 12_000 });
    const gateway = new GatewayClient(sim.address);
    let daemon: ChildProcess | undefined;
    let bare: ChildProcess | undefined;
    try {
      await gateway.ready();
      const users = siteUsers(u);
      ctx.log(`filling ${n} devices with ${u} users`);
      await populateDevices(gateway, sim.deviceIds, users, 1000);
      const lastEvents = new Map((await gateway.call(ControlService.listDevices, {})).devices.map((d) => [d.deviceID, d.lastEventID]));
      gateway.close();

      ctx.log('seeding the store');
      const location = join(dir, 'leveldb');
      const store = new LevelStore({ location, logger: pino({ level: 'silent' }) });
      await store.start();
      for (let i = 0; i < users.length; i += 5000) {
        await store.commit(users.slice(i, i + 5000).map((user) => ({ type: 'putUser' as const, user, origin: { kind: 'server' as const, by: 'bench' } })));
      }
      if (!cold) {
        const head = store.currentSeq();
        await store.commit(
          sim.deviceIds.flatMap((id): Mutation[] => [
            { type: 'putDevice', device: { id, source: 'discovered', lastEventId: lastEvents.get(id) ?? 0, userCount: u } },
            { type: 'setCursor', deviceId: id, seq: head },
          ]),
        );
      }
      await store.stop();

      const listen = `127.0.0.1:${await freeLoopbackPort()}`;
      const configFile = join(dir, 'rollcall.yaml');
      await writeFile(
        configFile,
        stringify({
          dataDir: join(dir, 'state'),
          http: { listen },
          storage: { backend: 'level', level: { path: location } },
          gateway: { address: sim.address, insecure: true },
          seed: { users: [] },
        }),
      );
      ctx.log('starting the daemon');
      const startedAt = performance.now();
      const profileDir = ctx.values['daemon-cpu-prof'];
      const nodeFlags = typeof profileDir === 'string' ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
      const snapshotDir = ctx.values['daemon-heap-snapshot'];
      if (typeof snapshotDir === 'string') nodeFlags.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshotDir}`);
      daemon = spawn(process.execPath, [...nodeFlags, cliPath, 'run', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      const lastLines = tail(daemon);
      const running = daemon;
      const gone = (): boolean => running.exitCode !== null || running.signalCode !== null;
      let last: Sample[] = [];
      const settledAt = await until(
        `${n} devices in sync in the daemon`,
        async () => {
          if (gone()) throw new Error(`the daemon exited: ${lastLines()}`);
          try {
            last = await scrape(listen);
          } catch {
            return false;
          }
          const inSync = byLabel(last, 'rollcall_device_in_sync', 'device');
          const pending = sumOf(last, 'rollcall_device_pending_changes');
          return inSync.size === n && [...inSync.values()].every((v) => v === 1) && pending === 0;
        },
        { timeoutMs: 1_800_000, intervalMs: 2000, detail: () => `in sync: ${[...byLabel(last, 'rollcall_device_in_sync', 'device').values()].filter((v) => v === 1).length}/${n}` },
      );
      const startupSeconds = (settledAt - startedAt) / 1000;
      ctx.log(`all ${n} devices in sync ${round(startupSeconds)} s after start; settling 5 s`);
      await new Promise((resolve) => setTimeout(resolve, 5000));

      bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 2 ** 30)'], { stdio: 'ignore' });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const before = await scrape(listen);
      const samples: { at: number; daemon: ProcStat; bare: ProcStat; sim: ProcStat }[] = [];
      const take = (): void => {
        samples.push({ at: performance.now(), daemon: readProcStat(running.pid!), bare: readProcStat(bare!.pid!), sim: sim.stat() });
      };
      ctx.log(`measuring ${windowSeconds} s of idle, from ${round(performance.now() - startedAt)} ms after the daemon was started (for profile.js --from)`);
      take();
      for (let s = 0; s < windowSeconds; s++) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        if (gone()) throw new Error(`the daemon exited during the window: ${lastLines()}`);
        take();
      }
      const after = await scrape(listen);
      const daemonPeakRss = readPeakRss(running.pid!);
      if (typeof snapshotDir === 'string') {
        // After the window, so that writing it is not measured; V8 collects before it writes.
        running.kill('SIGUSR2');
        await until('the heap snapshot', async () => (await readdir(snapshotDir)).some((f) => f.endsWith('.heapsnapshot')), { timeoutMs: 300_000, intervalMs: 1000 });
        await new Promise((resolve) => setTimeout(resolve, 5000));
        ctx.log(`heap snapshot in ${snapshotDir}; RSS after it ${round((readProcStat(running.pid!).rssPages * units.pageBytes) / 2 ** 20)} MiB`);
      }
      const window = usageBetween(samples.map((s) => ({ at: s.at, stat: s.daemon })), units);
      const bareWindow = usageBetween(samples.map((s) => ({ at: s.at, stat: s.bare })), units);
      const simWindow = usageBetween(samples.map((s) => ({ at: s.at, stat: s.sim })), units);
      const calls = sumOf(after, 'rollcall_gateway_calls_total') - sumOf(before, 'rollcall_gateway_calls_total');
      const ops = sumOf(after, 'rollcall_sync_ops_total') - sumOf(before, 'rollcall_sync_ops_total');
      const stillInSync = [...byLabel(after, 'rollcall_device_in_sync', 'device').values()].filter((v) => v === 1).length;
      // What the RSS holds: V8's heap (used and reserved) as the daemon reports it.
      const heap = { used: sumOf(after, 'nodejs_heap_size_used_bytes'), total: sumOf(after, 'nodejs_heap_size_total_bytes'), external: sumOf(after, 'nodejs_external_memory_bytes') };
      const exitCode = await stopChild(running);
      daemon = undefined;

      const rssMax = Math.max(...window.rssSamples);
      const bareRssMax = Math.max(...bareWindow.rssSamples);
      const sharePercent = window.coreShare * 100;
      const bareSharePercent = bareWindow.coreShare * 100;
      const usersText = u >= 1000 ? `${u / 1000}k` : String(u);
      return {
        rows: [
          {
            figure: `CPU over ${round(window.seconds)} s idle, ${n} devices, ${usersText} users`,
            measured: { value: sharePercent, unit: '%' },
            baseline: { value: bareSharePercent, unit: '%', label: 'a bare Node process waiting, same window' },
            ...(bareWindow.cpuSeconds > 0 ? { ratio: costRatio(window.cpuSeconds, bareWindow.cpuSeconds) } : {}),
            budget: { text: '< 2 % of a core', pass: sharePercent < 2 },
          },
          {
            figure: `RSS during the window (largest sample), ${n} devices, ${usersText} users`,
            measured: { value: rssMax, unit: 'B' },
            baseline: { value: bareRssMax, unit: 'B', label: 'a bare Node process' },
            ratio: costRatio(rssMax, bareRssMax),
            budget: { text: '< 250 MB (238 MiB)', pass: rssMax < 250e6 },
          },
        ],
        notes: [
          `The daemon as shipped (\`rollcall run\`, default config but for dataDir, storage.level.path, gateway.address and http.listen; sync mode all-devices-with-device-updates with the device-event follower), against \`rollcall sim --devices ${n}\` in another process. CPU is user + system time from /proc/<pid>/stat (${units.ticksPerSecond} ticks/s) over the window: ${round(window.cpuSeconds)} s for the daemon, ${round(bareWindow.cpuSeconds)} s for the bare process.`,
          `During the window the daemon made ${calls} gateway calls and ${ops} user operations; ${stillInSync}/${n} devices were in sync after it. The simulator used ${round(simWindow.coreShare * 100)} % of a core meanwhile.`,
          `${cold ? 'Cold start (devices adopted as new: their whole event logs read back)' : 'A restart of a synced site (cursors and last event IDs kept in the store)'}: ${round(startupSeconds)} s from start to every device in sync (a check of every device on connect). Peak RSS since start (VmHWM): ${round(daemonPeakRss / 2 ** 20)} MiB; RSS over the window ${round(Math.min(...window.rssSamples) / 2 ** 20)}..${round(rssMax / 2 ** 20)} MiB; at its end V8's heap held ${round(heap.used / 2 ** 20)} MiB in use of ${round(heap.total / 2 ** 20)} MiB reserved, plus ${round(heap.external / 2 ** 20)} MiB external (from /metrics). The daemon exited with ${exitCode} on SIGTERM.`,
        ],
        details: { devices: n, users: u, cold, windowSeconds, startupSeconds, window, bareWindow, simWindow, calls, ops, daemonPeakRss, heap, exitCode },
      };
    } finally {
      if (bare) await stopChild(bare);
      if (daemon) await stopChild(daemon);
      gateway.close();
      await sim.stop();
      await rm(dir, { recursive: true, force: true });
    }
  },
};

runIfMain(import.meta.url, idle);
