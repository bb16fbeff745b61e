/**
 * PINs through the real gateway path: the simulator's GetPINHash over gRPC via the gsdk
 * transport. The plaintext must end up nowhere but in the file the operator dropped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { Metrics } from '../../../daemon/obs/metrics.js';
import { configSchema } from '../../../plugins/transports/gsdk/schema.js';
import { GsdkTransport } from '../../../plugins/transports/gsdk/transport.js';
import { standInPinHash, startSimulator } from '../../../simulator/index.js';
import { SpoolHarness, listFiles } from '../../helpers/ingest-spool.js';

// The third is too long (4 to 16 digits): refused by the reader, and still a secret.
const PINS = ['9081726354', '5550001234', '31415926535897932'];

async function filesHolding(root: string, needles: readonly string[], skip: (path: string) => boolean = () => false): Promise<string[]> {
  const found: string[] = [];
  for (const path of await listFiles(root)) {
    if (skip(path)) continue;
    const bytes = await readFile(join(root, path));
    for (const needle of needles) if (bytes.includes(Buffer.from(needle))) found.push(`${path}: ${needle}`);
  }
  return found;
}

test('PINs are hashed by the gateway and their plaintext reaches no store file, report, error CSV or log', async () => {
  const sim = await startSimulator({ devices: [{ id: 1001 }], port: 0 });
  const abort = new AbortController();
  const logLines: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => void logLines.push(line) });
  const transport = new GsdkTransport(
    { logger, metrics: new Metrics(), signal: abort.signal, dataDir: '/nonexistent', lookup: () => undefined },
    configSchema.parse({ address: sim.address, insecure: true }),
  );
  await transport.start(abort.signal);
  const h = await SpoolHarness.start({ hashPin: (pin, options) => transport.hashPin(pin, options) });
  try {
    await h.drop(
      'pins.csv',
      ['user_id,name,email,pin', `1501,Has Pin,a@example.com,${PINS[0]}`, `1502,Bad Mail,nope,${PINS[1]}`, `1503,Long Pin,b@example.com,${PINS[2]}`, ''].join('\r\n'),
    );
    const [report] = await h.reportsAtLeast(1);
    assert.deepEqual(report!.rows, { imported: 1, unchanged: 0, failed: 2 });
    const stored = await h.store.getUser('1501');
    assert.equal(stored?.pinHash, await transport.hashPin(PINS[0]!));
    assert.equal(stored?.pinHash, standInPinHash(PINS[0]!).toString('base64'), 'the simulator\'s stand-in hash, through gRPC');
    const errors = await h.read(report!.errorsCsv!);
    assert.match(errors, /1502,Bad Mail,nope,,/);
    assert.match(errors, /1503,Long Pin,b@example\.com,,"?pin: /);

    // The copy kept in done/ has its PIN cells blanked: no file in the spool holds a PIN.
    assert.deepEqual(await filesHolding(h.spoolDir, PINS), []);
    const kept = await h.read(report!.path!);
    assert.match(kept, /^\uFEFFuser_id,name,email,pin\r\n1501,Has Pin,a@example\.com,\r\n/);
    assert.ok((await filesHolding(h.stored.dir, [stored!.pinHash!])).length > 0, 'the search does see what the store wrote');
    assert.deepEqual(await filesHolding(h.stored.dir, PINS), [], 'LevelDB files (log and tables) hold no plaintext PIN');
    const logs = [...logLines, ...h.logLines].join('\n');
    assert.ok(logs.length > 0);
    for (const pin of PINS) assert.ok(!logs.includes(pin), `a log line holds PIN ${pin}`);
    for (const event of await h.store.queryEvents()) for (const pin of PINS) assert.ok(!JSON.stringify(event).includes(pin));
  } finally {
    await h.stop();
    abort.abort();
    await transport.stop();
    await sim.stop();
  }
});
