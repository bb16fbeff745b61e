/**
 * Reliability suite 5, secrets: every flow runs at log level trace with a planted PIN and
 * planted template bytes. The plaintext PIN must appear nowhere in logs, the LevelDB
 * directory, reports, error CSVs or exports; template bytes never in logs (they are stored
 * in the database and written to data-file exports legitimately).
 *
 * Two parts: the drop folder, the sync engine, the transport and the simulator in this
 * process with one trace logger (the daemon does not host the drop folder yet), and the real
 * daemon as a child at trace with a PIN enrolled at a device by `rollcall sim enroll --pin`.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { DropFolder } from '../../daemon/ingest/drop-folder.js';
import type { ImportReport } from '../../daemon/ingest/types.js';
import { Metrics } from '../../daemon/obs/metrics.js';
import type { PluginContext, Store, SyncModeInstance, WatcherInstance } from '../../daemon/plugins/api.js';
import { BUILTIN_PLUGINS } from '../../daemon/plugins/registry.js';
import { tempLevelStore } from '../helpers/stores.js';
import { SyncEngine } from '../../daemon/sync/engine.js';
import { emptyUser, type User } from '../../daemon/model/user.js';
import { configSchema as gsdkSchema } from '../../plugins/transports/gsdk/schema.js';
import { GsdkTransport } from '../../plugins/transports/gsdk/transport.js';
import csvWatcher from '../../plugins/watchers/csv/index.js';
import { configSchema as csvSchema } from '../../plugins/watchers/csv/schema.js';
import datafileWatcher from '../../plugins/watchers/datafile/index.js';
import { configSchema as datafileSchema } from '../../plugins/watchers/datafile/schema.js';
import { writeDataFile } from '../../plugins/watchers/datafile/writer.js';
import { startSimulator } from '../../simulator/index.js';
import { TEST_SYNC_CONFIG } from '../helpers/sync-harness.js';
import { DaemonProcess, freePort, runCli } from '../helpers/daemon-process.js';
import { until } from '../helpers/ingest-spool.js';
import { needlesOf, scanDir, searchText, type ScanResult } from './secret-scan.js';

/** Planted PINs: digit strings that appear in nothing else the flows write. */
const PIN = '73915286';
const PIN_BAD_ROW = '64028517';
const PIN_AT_DEVICE = '58260394';
/**
 * Template bytes: a marker repeated to a fingerprint template's 384 bytes, after the
 * simulator's format tag (first byte 0: SUPREMA).
 */
const MARKER = Buffer.from('TPLMARK~9c1e5f3a~'.repeat(23).slice(0, 383), 'latin1');
const TEMPLATE = Buffer.concat([Buffer.from([0]), MARKER]);

function pinNeedles(pins: readonly string[]): { label: string; needle: Buffer }[] {
  return pins.flatMap((pin) => [
    { label: `PIN ${pin}`, needle: Buffer.from(pin) },
    { label: `PIN ${pin} (base64)`, needle: Buffer.from(Buffer.from(pin).toString('base64').replace(/=+$/, '')) },
  ]);
}

function templateUser(): User {
  return { ...emptyUser('880001'), name: 'Template Carrier', fingers: [{ index: 0, flag: 0, templates: [TEMPLATE.toString('base64'), TEMPLATE.toString('base64')] }] };
}

async function dataFile(users: User[]): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  async function* stream(): AsyncIterable<User> {
    yield* users;
  }
  await writeDataFile(stream(), out, { templateFormat: 'SUPREMA', membersUsers: 4 });
  return Buffer.concat(chunks);
}

function print(name: string, r: ScanResult): void {
  console.log(`# secrets: ${name}: ${r.files} files, ${r.bytes} bytes scanned, ${r.hits.length} hits`);
}

describe('reliability: secrets', () => {
  test('CSV and data-file imports, fan-out and exports at trace: no plaintext PIN stored or logged, no template bytes logged', { timeout: 120_000 }, async () => {
    const logs: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (line: string) => void logs.push(line) });
    const metrics = new Metrics();
    const abort = new AbortController();
    const signal = abort.signal;
    const sim = await startSimulator({ devices: [{ id: 6001 }, { id: 6002 }], port: 0 });
    const stored = await tempLevelStore();
    const spoolDir = await mkdtemp(join(tmpdir(), 'rollcall-secrets-spool-'));
    const context = (store?: Store): PluginContext => ({ logger, metrics, signal, dataDir: '/nonexistent', store, lookup: () => undefined });
    const transport = new GsdkTransport(context(), gsdkSchema.parse({ address: sim.address, insecure: true }));
    let engine: SyncEngine | undefined;
    let folder: DropFolder | undefined;
    try {
      await transport.start(signal);
      const mode = BUILTIN_PLUGINS.find((d) => d.kind === 'sync-mode' && d.name === 'all-devices-with-device-updates')!.create(context(stored.store), {}) as SyncModeInstance;
      engine = new SyncEngine({ store: stored.store, transport, mode, config: { ...TEST_SYNC_CONFIG, mode: 'all-devices-with-device-updates' }, devices: [], logger, metrics });
      await engine.start(signal);
      const watchers: WatcherInstance[] = [
        csvWatcher.create(context(), csvSchema.parse({})) as WatcherInstance,
        datafileWatcher.create(context(stored.store), datafileSchema.parse({})) as WatcherInstance,
      ];
      const reports: ImportReport[] = [];
      folder = new DropFolder({ spoolDir, store: stored.store, watchers, hashPin: (pin, options) => transport.hashPin(pin, options), logger, metrics, stableMs: 100, onReport: (r) => void reports.push(r) });
      await folder.start(signal);

      const csv = ['user_id,name,email,pin', `770001,Pin Holder,pin@example.org,${PIN}`, `770002,Bad Row,not-an-email,${PIN_BAD_ROW}`, ''].join('\r\n');
      await writeFile(join(spoolDir, 'incoming', '.users.csv.partial'), csv);
      await import('node:fs/promises').then((fs) => fs.rename(join(spoolDir, 'incoming', '.users.csv.partial'), join(spoolDir, 'incoming', 'users.csv')));
      await until('csv report', () => reports.length >= 1, 30_000);
      await writeFile(join(spoolDir, 'incoming', 'rollcall_20250102_030405.tgz'), await dataFile([templateUser()]));
      await until('datafile report', () => reports.length >= 2, 30_000);
      assert.deepEqual(reports.map((r) => r.state), ['done', 'done'], JSON.stringify(reports));
      assert.equal(reports[0]!.rows.imported, 1);
      assert.equal(reports[0]!.rows.failed, 1, 'the bad row is reported, with its PIN in the error CSV unless blanked');
      const pinned = await stored.store.getUser('770001');
      assert.ok(pinned?.pinHash, 'the PIN was hashed and stored as a hash');
      assert.ok((await stored.store.getUser('880001'))?.fingers.length, 'the template user was imported');

      await until('both devices hold the imported users', () => [6001, 6002].every((id) => sim.device(id).user('770001') !== undefined && sim.device(id).user('880001') !== undefined), 30_000);
      await folder.exportUsers('csv');
      await folder.exportUsers('datafile');
      await engine.verify({ deep: true });

      await folder.stop();
      folder = undefined;
      await engine.stop();
      engine = undefined;
      await stored.store.stop();

      const secrets = pinNeedles([PIN, PIN_BAD_ROW]);
      const templates = needlesOf('template', MARKER);
      const logResult: ScanResult = { files: 0, bytes: 0, hits: [] };
      searchText('log', Buffer.from(logs.join('')), [...secrets, ...templates], logResult);
      const storeResult = await scanDir(stored.dir, secrets);
      // The dropped files themselves are the operator's input, moved to done/ as they were:
      // the reports, error CSVs and exports beside them are what rollcall wrote. Their
      // plaintext PINs are counted and printed (a retention question), not failed.
      const dropped = new Set(['users.csv', 'rollcall_20250102_030405.tgz']);
      const isOriginal = (relative: string) => relative.startsWith('done') && dropped.has(basename(relative));
      const spoolResult = await scanDir(spoolDir, secrets, undefined, isOriginal);
      const originalsResult = await scanDir(spoolDir, secrets, undefined, (relative) => !isOriginal(relative));
      print('dropped originals kept in done/ (not rollcall output; printed only)', originalsResult);
      print(`logs (${logs.length} lines at trace)`, logResult);
      print('LevelDB directory', storeResult);
      print('spool (reports, error CSVs, exports)', spoolResult);
      assert.deepEqual([...logResult.hits, ...storeResult.hits, ...spoolResult.hits], []);
    } finally {
      abort.abort();
      await folder?.stop();
      await engine?.stop();
      await transport.stop();
      await sim.stop();
      await stored.cleanup();
      await rm(spoolDir, { recursive: true, force: true });
    }
  });

  test('the daemon at trace: a PIN enrolled at a device (rollcall sim enroll --pin) reaches the other device and is never logged or stored in plaintext', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rollcall-secrets-daemon-'));
    const sim = await startSimulator({ devices: [{ id: 6101 }, { id: 6102 }], port: 0 });
    let daemon: DaemonProcess | undefined;
    try {
      const config = join(dir, 'rollcall.yaml');
      await writeFile(config, `dataDir: ${join(dir, 'state')}\nlog:\n  level: trace\nhttp:\n  listen: 127.0.0.1:${await freePort()}\ngateway:\n  address: ${sim.address}\n  insecure: true\nwatchers:\n  enabled: []\n`);
      daemon = new DaemonProcess(['run', '--config', config]);
      await daemon.waitForLine((l) => l['msg'] === 'rollcall is running', 60_000);
      const enrolled = await runCli(['sim', 'enroll', '--gateway', sim.address, '--device', '6101', '--user', '990001', '--name', 'Device Pin', '--pin', PIN_AT_DEVICE]);
      assert.equal(enrolled.code, 0, enrolled.stderr);
      await until('the user reached the other device with its PIN hash', () => (sim.device(6102).user('990001')?.PIN?.length ?? 0) > 0, 60_000);
      daemon.child.kill('SIGTERM');
      assert.equal((await daemon.exited).code, 0);
      const secrets = pinNeedles([PIN_AT_DEVICE]);
      const logResult: ScanResult = { files: 0, bytes: 0, hits: [] };
      searchText('daemon stdout', Buffer.from(daemon.lines.map((l) => JSON.stringify(l)).join('\n')), secrets, logResult);
      searchText('daemon stderr', Buffer.from(daemon.stderr), secrets, logResult);
      const stateResult = await scanDir(join(dir, 'state'), secrets);
      print(`daemon logs (${daemon.lines.length} lines at trace)`, logResult);
      print('daemon dataDir', stateResult);
      const levels = new Map<unknown, number>();
      for (const l of daemon.lines) levels.set(l['level'], (levels.get(l['level']) ?? 0) + 1);
      console.log(`# secrets: daemon log lines by level: ${JSON.stringify(Object.fromEntries(levels))}`);
      assert.deepEqual([...logResult.hits, ...stateResult.hits], []);
    } finally {
      await daemon?.kill();
      await sim.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
