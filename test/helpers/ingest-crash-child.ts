/**
 * A drop folder in a process of its own, for the crash test: it opens the LevelDB store
 * and the spool named on the command line, imports what it finds, and reports on stdout:
 * `progress N` after each commit, `report {json}` when a file is done. The test kills it
 * with SIGKILL mid-import and starts it again on the same store and spool.
 *
 * Usage: node ingest-crash-child.js SPOOL_DIR LEVELDB_DIR
 */
import { pino } from 'pino';
import { DropFolder } from '../../daemon/ingest/drop-folder.js';
import { Metrics } from '../../daemon/obs/metrics.js';
import { LevelStore } from '../../plugins/storage/level/level-store.js';
import { csvWatcherFor, testHashPin } from './ingest-spool.js';

const [spoolDir, location] = process.argv.slice(2);
if (!spoolDir || !location) {
  process.stderr.write('usage: ingest-crash-child SPOOL_DIR LEVELDB_DIR\n');
  process.exit(2);
}
const logger = pino({ level: process.env.ROLLCALL_TEST_LOG ?? 'silent' });
const store = new LevelStore({ location, logger, sync: false });
await store.start();
let finished = false;
const folder: DropFolder = new DropFolder({
  spoolDir,
  store,
  watchers: [csvWatcherFor(logger, { mode: 'overwrite', batchSize: 500 })],
  hashPin: testHashPin,
  logger,
  metrics: new Metrics(),
  stableMs: 50,
  onProgress: (progress) => process.stdout.write(`progress ${progress.handled}\n`),
  onReport: (report) => {
    process.stdout.write(`report ${JSON.stringify(report)}\n`);
    if (finished) return;
    finished = true;
    void folder
      .stop()
      .then(() => store.stop())
      .then(() => process.exit(0));
  },
});
await folder.start();
process.stdout.write('started\n');
