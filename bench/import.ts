/**
 * Benchmark 1, import: the user's path. `rollcall import FILE` (the CLI, a process of its
 * own) against a running daemon (`rollcall run`, a child process with the default config
 * but for its folders and ports) whose devices are served by `rollcall sim` in a third
 * process. Two times per size: the command's own (upload, encoding check, content hash,
 * parse, mapping and validation, merge, one commit per 500 rows with its checkpoint, the
 * file moved to done/, the report back), and from the drop to the moment every device's
 * cursor is at the head with every device in sync (read from the daemon's /metrics). The
 * daemon's peak RSS (VmHWM from /proc) covers the whole run.
 *
 * The raw floor in the same run, on the same file, in a fresh process: csv-parse's stream
 * (columns by header, BOM handled) into classic-level batches of 2,000, with no rollcall
 * code at all (lib/import-floor.ts).
 *
 * The embedded default: at the largest size (or --embedded-rows), the same import into a
 * daemon whose gateway is `embedded` with config.example.yaml's three devices (what
 * `npm start` runs), timed to every device in sync.
 *
 *   node dist/bench/import.js [--quick] [--rows 50000,200000,500000] [--devices 3]
 *                             [--embedded-rows 500000 | --no-embedded] [--daemon-cpu-prof DIR]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeBiostarCsv } from './lib/biostar-csv.js';
import { allInSync, runCli, startDaemonRun, type DaemonRun } from './lib/daemon-run.js';
import { defaultSyncConfig, until } from './lib/engine-rig.js';
import { GatewayClient } from './lib/gateway-client.js';
import { fanoutFloor, POLL_MS, readBackUsers, waitAllAcknowledged } from './lib/import-fanout.js';
import { FLOOR_BATCH, rawFloor } from './lib/import-floor.js';
import { ownPeakRssBytes } from './lib/process-stats.js';
import { byLabel, sumOf } from './lib/prometheus-text.js';
import { runIfMain, type BenchContext, type BenchDefinition, type BenchOutcome } from './lib/run.js';
import type { ResultRow } from './lib/results.js';
import { startSimProcess, type SimProcess } from './lib/sim-process.js';
import { costRatio, round } from './lib/stats.js';

/** config.example.yaml's embedded devices: what `npm start` syncs. */
const EXAMPLE_DEVICES = [
  { id: 1001, type: 'BIOSTATION_3' },
  { id: 1002, type: 'FACESTATION_F2_FP' },
  { id: 1003, type: 'BIOENTRY_W3' },
];

interface FloorResult {
  rows: number;
  seconds: number;
  peakRssBytes: number;
  stored: number;
}

export interface UserPathResult {
  rows: number;
  devices: number;
  gateway: 'sim-process' | 'embedded';
  /** `rollcall import FILE`, start to exit. */
  importSeconds: number;
  /** From the start of the command to every device in sync with nothing pending. */
  inSyncSeconds: number;
  daemonPeakRssBytes: number;
  simPeakRssBytes?: number;
  /** From the command's return to every device's cursor at the head (read from the admin socket), and the floor of that fan-out; with a simulator process only. */
  fanout?: { seconds: number; floorSeconds: number; cutCalls: number };
  report: { rows: { imported: number; unchanged: number; failed: number }; state: string };
}

/** The floor in a fresh process of its own, so that its peak RSS is its own. */
function floorInChild(file: string): Promise<FloorResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--floor', '--file', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`the floor exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as FloorResult);
    });
  });
}

async function floorChild(file: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-bench-import-floor-'));
  try {
    const result = await rawFloor(file, join(dir, 'leveldb'));
    process.stdout.write(`${JSON.stringify({ ...result, peakRssBytes: ownPeakRssBytes() })}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function waitInSync(daemon: DaemonRun, devices: number, users: number, what: string): Promise<number> {
  let last: Awaited<ReturnType<DaemonRun['scrape']>> = [];
  return until(
    what,
    async () => {
      if (daemon.gone()) throw new Error(`the daemon exited: ${daemon.tail()}`);
      try {
        last = await daemon.scrape();
      } catch {
        return false;
      }
      return allInSync(last, devices, users);
    },
    {
      timeoutMs: 3_600_000,
      intervalMs: 250,
      detail: () =>
        `in sync ${[...byLabel(last, 'rollcall_device_in_sync', 'device').values()].filter((v) => v === 1).length}/${devices}, pending ${sumOf(last, 'rollcall_device_pending_changes')}, users ${sumOf(last, 'rollcall_users')}`,
    },
  );
}

/**
 * One import along the user's path, in a fresh daemon (and simulator). `storage` is the
 * daemon config's storage section (default: the default LevelDB store in its state folder).
 */
export async function userPath(ctx: BenchContext, file: string, rows: number, devices: number, gateway: 'sim-process' | 'embedded', storage?: Record<string, unknown>): Promise<UserPathResult> {
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-bench-import-'));
  let sim: SimProcess | undefined;
  let daemon: DaemonRun | undefined;
  try {
    // 10 devices × 500k users take the simulator about 2 GiB.
    if (gateway === 'sim-process') sim = await startSimProcess({ devices, heapMb: rows * devices > 2_000_000 ? 8192 : 4096 });
    const profileDir = ctx.values['daemon-cpu-prof'];
    daemon = await startDaemonRun({
      dir,
      gateway: sim?.address ?? 'embedded',
      embeddedDevices: EXAMPLE_DEVICES.slice(0, devices),
      ...(storage ? { storage } : {}),
      ...(typeof profileDir === 'string' ? { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
    });
    await waitInSync(daemon, devices, 0, `the daemon up with ${devices} devices in sync`);
    const t0 = performance.now();
    const cli = await runCli(['import', file, '--socket', daemon.socket, '--json']);
    const t1 = performance.now();
    if (cli.code !== 0) throw new Error(`rollcall import exited with ${cli.code}: ${cli.stderr.slice(-2000)} ${cli.stdout.slice(-2000)}`);
    const report = JSON.parse(cli.stdout) as UserPathResult['report'];
    if (report.state !== 'done' || report.rows.failed > 0) throw new Error(`the import did not go through: ${cli.stdout.slice(0, 2000)}`);
    const acknowledged = await waitAllAcknowledged(daemon.socket, devices, 3_600_000);
    const synced = await waitInSync(daemon, devices, rows, `${devices} devices in sync with ${rows} users`);
    const daemonPeakRssBytes = daemon.peakRss();
    const cutCalls = sumOf(await daemon.scrape(), 'rollcall_sync_calls_cut_total');
    await daemon.stop();
    daemon = undefined;
    let fanout: UserPathResult['fanout'];
    if (sim) {
      const gateway = new GatewayClient(sim.address, { maxMessageBytes: 256 * 2 ** 20 });
      try {
        const users = await readBackUsers(gateway, sim.deviceIds[0]!);
        if (users.length !== rows) throw new Error(`device ${sim.deviceIds[0]} holds ${users.length} users, not ${rows}`);
        fanout = { seconds: (acknowledged - t1) / 1000, cutCalls, floorSeconds: await fanoutFloor(gateway, sim.deviceIds, users, defaultSyncConfig().batch.maxUsers) };
      } finally {
        gateway.close();
      }
    }
    const simPeak = sim ? (await sim.stop()).peakRssBytes : undefined;
    sim = undefined;
    return {
      rows,
      devices,
      gateway,
      importSeconds: (t1 - t0) / 1000,
      inSyncSeconds: (synced - t0) / 1000,
      daemonPeakRssBytes,
      ...(simPeak !== undefined ? { simPeakRssBytes: simPeak } : {}),
      ...(fanout ? { fanout } : {}),
      report: { rows: report.rows, state: report.state },
    };
  } finally {
    await daemon?.stop();
    await sim?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const text = (n: number): string => (n >= 1000 ? `${n / 1000}k` : String(n));

export const importBench: BenchDefinition = {
  name: 'import',
  title: 'CSV import',
  options: { rows: { type: 'string' }, devices: { type: 'string' }, 'embedded-rows': { type: 'string' }, 'no-embedded': { type: 'boolean' }, 'daemon-cpu-prof': { type: 'string' } },
  async run(ctx: BenchContext): Promise<BenchOutcome> {
    const quick = ctx.profile === 'quick';
    const sizes = typeof ctx.values['rows'] === 'string' ? (ctx.values['rows'] as string).split(',').map(Number) : quick ? [5_000, 20_000] : [50_000, 200_000, 500_000];
    // 10: the issue's fan-out and memory figures are of a 500k import to 10 devices (issue 14 items 3, 4).
    const devices = Number(ctx.values['devices'] ?? 10);
    const embeddedRows = ctx.values['no-embedded'] === true ? undefined : Number(ctx.values['embedded-rows'] ?? sizes[sizes.length - 1]);
    const dir = await mkdtemp(join(tmpdir(), 'rollcall-bench-csv-'));
    const results: { rows: number; fileBytes: number; floor: FloorResult; user: UserPathResult; embedded?: UserPathResult; embeddedFloor?: FloorResult }[] = [];
    try {
      for (const rows of sizes) {
        const file = join(dir, `users_${rows}.csv`);
        const fileBytes = await writeBiostarCsv(file, rows);
        if ((await stat(file)).size !== fileBytes) throw new Error('the CSV was not written whole');
        const floor = await floorInChild(file);
        ctx.log(`${rows} rows: raw floor ${round(floor.seconds)} s`);
        const user = await userPath(ctx, file, rows, devices, 'sim-process');
        const fanoutText = user.fanout ? `, fan-out ${round(user.fanout.seconds)} s (floor ${round(user.fanout.floorSeconds)} s, ${user.fanout.cutCalls} calls cut)` : '';
        ctx.log(`${rows} rows: rollcall import ${round(user.importSeconds)} s, all ${devices} devices in sync at ${round(user.inSyncSeconds)} s${fanoutText}, daemon peak RSS ${round(user.daemonPeakRssBytes / 2 ** 20)} MiB`);
        if (floor.stored !== rows || user.report.rows.imported !== rows) throw new Error(`${rows} rows: stored ${floor.stored} (floor), imported ${user.report.rows.imported} (rollcall)`);
        const entry: (typeof results)[number] = { rows, fileBytes, floor, user };
        if (embeddedRows === rows) {
          entry.embedded = await userPath(ctx, file, rows, EXAMPLE_DEVICES.length, 'embedded');
          entry.embeddedFloor = await floorInChild(file);
          ctx.log(`${rows} rows, embedded: rollcall import ${round(entry.embedded.importSeconds)} s, in sync at ${round(entry.embedded.inSyncSeconds)} s; floor again ${round(entry.embeddedFloor.seconds)} s`);
        }
        results.push(entry);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const out: ResultRow[] = [];
    const largest = results[results.length - 1]!;
    const floorLabel = `csv-parse stream → classic-level batches of ${FLOOR_BATCH}, no rollcall code`;
    for (const r of results) {
      const ratio = costRatio(r.user.importSeconds, r.floor.seconds);
      out.push({
        figure: `${text(r.rows)} rows, \`rollcall import\``,
        measured: { value: r.user.importSeconds, unit: 's' },
        baseline: { value: r.floor.seconds, unit: 's', label: floorLabel },
        ratio,
        budget: { text: '≤ 2× the raw floor', pass: ratio <= 2 },
      });
      out.push({
        figure: `${text(r.rows)} rows, drop → all ${r.user.devices} devices in sync`,
        measured: { value: r.user.inSyncSeconds, unit: 's' },
        baseline: { value: r.floor.seconds, unit: 's', label: 'the raw floor' },
        ratio: costRatio(r.user.inSyncSeconds, r.floor.seconds),
      });
      if (r.user.fanout) {
        const fanoutRatio = costRatio(r.user.fanout.seconds, r.user.fanout.floorSeconds);
        out.push({
          figure: `${text(r.rows)} users → ${r.user.devices} devices, from \`rollcall import\`'s return until every device acknowledged (daemon process)`,
          measured: { value: r.user.fanout.seconds, unit: 's' },
          baseline: { value: r.user.fanout.floorSeconds, unit: 's', label: 'floor: the same users, read back from a device, in pre-built EnrollMulti batches to the same simulator' },
          ratio: fanoutRatio,
          ...(r.rows === 500_000 && r.user.devices === 10 ? { budget: { text: '≤ 1.5× floor', pass: fanoutRatio <= 1.5 } } : {}),
        });
      }
      out.push({
        figure: `${text(r.rows)} rows, daemon peak RSS`,
        measured: { value: r.user.daemonPeakRssBytes, unit: 'B' },
        baseline: { value: r.floor.peakRssBytes, unit: 'B', label: 'the raw floor' },
        ratio: costRatio(r.user.daemonPeakRssBytes, r.floor.peakRssBytes),
        budget: { text: '≤ 300 MB (286 MiB)', pass: r.user.daemonPeakRssBytes <= 300e6 },
      });
      if (r.embedded && r.embeddedFloor) {
        out.push({
          figure: `${text(r.rows)} rows, embedded default (\`npm start\`'s 3 devices): \`rollcall import\``,
          measured: { value: r.embedded.importSeconds, unit: 's' },
          baseline: { value: r.embeddedFloor.seconds, unit: 's', label: 'the raw floor, run again beside it' },
          ratio: costRatio(r.embedded.importSeconds, r.embeddedFloor.seconds),
        });
        out.push({
          figure: `${text(r.rows)} rows, embedded default: drop → all devices in sync`,
          measured: { value: r.embedded.inSyncSeconds, unit: 's' },
          baseline: { value: r.embeddedFloor.seconds, unit: 's', label: 'the raw floor' },
          ratio: costRatio(r.embedded.inSyncSeconds, r.embeddedFloor.seconds),
          budget: { text: 'completes, every device in sync', pass: r.embedded.report.rows.imported === r.rows },
        });
      }
    }
    if (largest.rows === 500_000) {
      out.push({
        figure: `${text(largest.rows)} rows, \`rollcall import\` (absolute)`,
        measured: { value: largest.user.importSeconds, unit: 's' },
        budget: { text: '500k rows ≤ 20 s', pass: largest.user.importSeconds <= 20 },
      });
    }
    const rss = results.map((r) => r.user.daemonPeakRssBytes);
    const flatness = Math.max(...rss) / Math.min(...rss);
    out.push({
      figure: `daemon peak RSS across sizes (largest ÷ smallest, ${text(results[0]!.rows)} to ${text(largest.rows)} rows)`,
      measured: { value: flatness, unit: '×' },
      budget: { text: 'flat: ≤ 1.25×', pass: flatness <= 1.25 },
    });
    return {
      rows: out,
      notes: [
        `Files: ${results.map((r) => `${text(r.rows)} rows = ${round(r.fileBytes / 2 ** 20)} MiB`).join(', ')}; BioStar 2 export columns (lib/biostar-csv.ts), one CSN card each, no PIN column, UTF-8 with BOM, CRLF. Every row is new to the database.`,
        `Measured: \`rollcall import FILE --json\` as a process of its own, against \`rollcall run\` (default config but for its folders, ports and no seed users; sync mode all-devices-with-device-updates) whose gateway is \`rollcall sim --devices ${devices}\` in a third process; a fresh daemon, store and simulator per size. "In sync" is read from /metrics every 250 ms: every device's rollcall_device_in_sync 1 and rollcall_device_pending_changes 0, rollcall_users = the rows.`,
        `Raw floor: lib/import-floor.ts in a fresh process (csv-parse's stream with columns by header and bom, into classic-level batches of ${FLOOR_BATCH} puts of the row as JSON); it imports no rollcall module. Times: ${results.map((r) => `${text(r.rows)} ${round(r.floor.seconds)} s`).join(', ')}.`,
        ...results.flatMap((r) =>
          r.embedded ? [`Embedded: the daemon with \`gateway.address: embedded\` and config.example.yaml's three devices (${EXAMPLE_DEVICES.map((d) => d.type).join(', ')}), as \`npm start\` runs it: ${text(r.rows)} rows imported in ${round(r.embedded.importSeconds)} s, every device in sync at ${round(r.embedded.inSyncSeconds)} s, daemon peak RSS ${round(r.embedded.daemonPeakRssBytes / 2 ** 20)} MiB (the simulator's devices are in the daemon's process).`] : [],
        ),
        `Fan-out (issue 14 item 3, on the user's path): from the return of \`rollcall import\` (every row committed) until every device's cursor is at the head, read from the daemon's admin socket (ListDevices, what \`rollcall devices\` shows) every ${POLL_MS} ms; the import holds the devices' batches while it runs (\`sync.importHoldMs\`), so the fan-out is all after it. Floor in the same run on the same simulator process once the daemon is stopped: the users read back from the first device before the clock, the devices emptied, then pre-encoded EnrollMulti batches of ${defaultSyncConfig().batch.maxUsers} users to all ${devices} devices one after another (lib/import-fanout.ts). Shared calls cut at their soft deadline during the run (rollcall_sync_calls_cut_total): ${results.map((r) => `${text(r.rows)} ${r.user.fanout?.cutCalls ?? '–'}`).join(', ')}.`,
        `Simulator peak RSS: ${results.map((r) => `${text(r.rows)} ${round((r.user.simPeakRssBytes ?? 0) / 2 ** 20)} MiB`).join(', ')}.`,
      ],
      details: { results },
    };
  },
};

if (process.argv.includes('--floor')) {
  const { values } = parseArgs({ options: { floor: { type: 'boolean' }, file: { type: 'string' } } });
  floorChild(values.file!).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`import floor: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
} else {
  runIfMain(import.meta.url, importBench);
}
