/**
 * What the crash suite kills: the daemon's working parts in one process (the LevelDB store,
 * the drop folder with the CSV watcher, the gsdk transport to a gateway outside this
 * process, the sync engine and the device-event follower), wired as `rollcall run` wires
 * them. `rollcall run` does not host the drop folder yet, so this stands in for it; it uses
 * the same constructors with the same options a daemon would.
 *
 * Usage: node crash-child.js SPOOL_DIR LEVELDB_DIR GATEWAY_ADDRESS
 * Prints `started`, `progress N` after each import commit and `report {json}` per file; it
 * runs until SIGTERM (a clean stop: exit 0) or SIGKILL.
 */
import { pino } from 'pino';
import { DropFolder } from '../../daemon/ingest/drop-folder.js';
import { Metrics } from '../../daemon/obs/metrics.js';
import type { PluginContext, Store, SyncModeInstance } from '../../daemon/plugins/api.js';
import { BUILTIN_PLUGINS } from '../../daemon/plugins/registry.js';
import { SyncEngine } from '../../daemon/sync/engine.js';
import { LevelStore } from '../../plugins/storage/level/level-store.js';
import { configSchema as gsdkSchema } from '../../plugins/transports/gsdk/schema.js';
import { GsdkTransport } from '../../plugins/transports/gsdk/transport.js';
import { csvWatcherFor } from '../helpers/ingest-spool.js';
import { TEST_SYNC_CONFIG } from '../helpers/sync-harness.js';

const [spoolDir, location, gateway] = process.argv.slice(2);
if (!spoolDir || !location || !gateway) {
  process.stderr.write('usage: crash-child SPOOL_DIR LEVELDB_DIR GATEWAY_ADDRESS\n');
  process.exit(2);
}
const logger = pino({ level: process.env.ROLLCALL_TEST_LOG ?? 'silent' });
const metrics = new Metrics();
const abort = new AbortController();
const signal = abort.signal;
const context = (store?: Store): PluginContext => ({ logger, metrics, signal, dataDir: '/nonexistent', store, lookup: () => undefined });

const store = new LevelStore({ location, logger, sync: false });
await store.start();
const transport = new GsdkTransport(context(), gsdkSchema.parse({ address: gateway, insecure: true }));
await transport.start(signal);
const mode = BUILTIN_PLUGINS.find((d) => d.kind === 'sync-mode' && d.name === 'all-devices')!.create(context(store), {}) as SyncModeInstance;
const engine = new SyncEngine({
  store,
  transport,
  mode,
  // The daemon's defaults for batching and concurrency; fast retries so restarts converge quickly.
  config: { ...TEST_SYNC_CONFIG, batch: { maxUsers: 500, maxBytes: 3 * 1024 * 1024 }, concurrency: 8, massRemoval: { share: 0.1, minimum: 10 } },
  devices: [],
  logger,
  metrics,
});
await engine.start(signal);
const folder = new DropFolder({
  spoolDir,
  store,
  watchers: [csvWatcherFor(logger, { mode: 'overwrite', batchSize: 500 })],
  hashPin: (pin, options) => transport.hashPin(pin, options),
  logger,
  metrics,
  stableMs: 50,
  onProgress: (progress) => process.stdout.write(`progress ${progress.handled}\n`),
  onReport: (report) => process.stdout.write(`report ${JSON.stringify(report)}\n`),
});
await folder.start(signal);
process.stdout.write('started\n');

process.once('SIGTERM', () => {
  abort.abort();
  void (async () => {
    await folder.stop();
    await engine.stop();
    await transport.stop();
    await store.stop();
    process.exit(0);
  })();
});
