/**
 * The import ledger shared by instances on one PostgreSQL schema (daemon/ingest/ledger-claim.ts):
 * two stores (two instances), each with its own drop folder. Claiming a content is atomic
 * across them: of 20 claims of one hash made at once from both, exactly one applies. The
 * same CSV dropped at both at once is imported once: one folder reports it imported, the
 * other waits for that import and reports a duplicate; the users and the ledger show one
 * import. An import claimed by an instance that is gone is resumed by the other.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { isRollcallError } from '../../../daemon/errors.js';
import { DropFolder } from '../../../daemon/ingest/drop-folder.js';
import type { ImportReport } from '../../../daemon/ingest/types.js';
import { Metrics } from '../../../daemon/obs/metrics.js';
import type { ImportRecord } from '../../../daemon/plugins/api.js';
import { csvWatcherFor, testHashPin } from '../../helpers/ingest-spool.js';
import { postgresSkipReason, startPostgresServer, type PostgresServer } from '../../helpers/postgres-server.js';
import { freshSchema, postgresConfig, postgresStore } from '../../helpers/postgres-stores.js';
import type { PostgresStore } from '../../../plugins/storage/postgres/postgres-store.js';

const TTL = 600_000;
const hash = 'ab'.repeat(32);
const running = (claimedBy: string): ImportRecord => ({ hash, file: 'x.csv', format: 'csv', state: 'running', startedAt: 1000, checkpoint: 0, counts: { ok: 0, failed: 0, skipped: 0 }, claimedBy });

interface Instance {
  id: string;
  store: PostgresStore;
  spool: string;
  folder: DropFolder;
  reports: ImportReport[];
}

async function instance(id: string, store: PostgresStore): Promise<Instance> {
  const logger = pino({ level: process.env.ROLLCALL_TEST_LOG ?? 'silent' });
  const spool = await mkdtemp(join(tmpdir(), `rollcall-shared-ledger-${id}-`));
  const reports: ImportReport[] = [];
  const folder = new DropFolder({ store, watchers: [csvWatcherFor(logger)], hashPin: testHashPin, logger, metrics: new Metrics(), stableMs: 150, spoolDir: spool, instanceId: id, onReport: (r) => void reports.push(r) });
  await folder.start();
  return { id, store, spool, folder, reports };
}

async function drop(spool: string, name: string, content: string): Promise<void> {
  const temporary = join(spool, 'incoming', `.${name}.partial`);
  await writeFile(temporary, content);
  await rename(temporary, join(spool, 'incoming', name));
}

async function reportOf(i: Instance): Promise<ImportReport> {
  for (;;) {
    if (i.reports.length > 0) return i.reports[0]!;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const skip = postgresSkipReason();
if (skip !== undefined) {
  test('shared import ledger on postgres', { skip }, () => {});
} else {
  let server: PostgresServer;
  before(async () => {
    server = await startPostgresServer();
  });
  after(async () => {
    await server.stop();
  });

  async function twoStores(): Promise<{ a: PostgresStore; b: PostgresStore; close(): Promise<void> }> {
    const schema = freshSchema();
    const config = postgresConfig(server, schema);
    const [a, b] = [postgresStore(config), postgresStore(config)];
    await a.start();
    await b.start();
    return {
      a,
      b,
      async close() {
        await Promise.all([a.stop(), b.stop()]);
        await server.query(`DROP SCHEMA ${schema} CASCADE`);
      },
    };
  }

  test('claiming one content from two stores at once: exactly one claim applies', { timeout: 60_000 }, async () => {
    const { a, b, close } = await twoStores();
    try {
      const claims = Array.from({ length: 20 }, (_, n) => {
        const store = n % 2 === 0 ? a : b;
        const by = `${n % 2 === 0 ? 'A' : 'B'}${n}`;
        return store.commit([{ type: 'putImport', record: running(by) }], { claim: { hash, expect: undefined } }).then(
          () => by,
          (error: unknown) => {
            if (isRollcallError(error, 'ROLLCALL_ERR_IMPORT_CLAIMED')) return undefined;
            throw error;
          },
        );
      });
      const won = (await Promise.all(claims)).filter((by) => by !== undefined);
      assert.equal(won.length, 1, `one claim applies, got ${JSON.stringify(won)}`);
      assert.equal((await b.getImport(hash))?.claimedBy, won[0]);
      // Taking it over needs the record as it is now.
      await assert.rejects(a.commit([{ type: 'putImport', record: running('C') }], { claim: { hash, expect: { state: 'running', startedAt: 1000, claimedBy: 'someone else' } } }), (e: unknown) => isRollcallError(e, 'ROLLCALL_ERR_IMPORT_CLAIMED'));
      await a.commit([{ type: 'putImport', record: running('C') }], { claim: { hash, expect: { state: 'running', startedAt: 1000, claimedBy: won[0]! } } });
      assert.equal((await b.getImport(hash))?.claimedBy, 'C');
    } finally {
      await close();
    }
  });

  test('the same CSV dropped at two instances at once is imported once', { timeout: 120_000 }, async () => {
    const { a, b, close } = await twoStores();
    await a.leases.heartbeat({ id: 'A', host: 'a', ttlMs: TTL, fresh: true });
    await b.leases.heartbeat({ id: 'B', host: 'b', ttlMs: TTL, fresh: true });
    const [ia, ib] = [await instance('A', a), await instance('B', b)];
    try {
      const rows = ['user_id,name', ...Array.from({ length: 3000 }, (_, n) => `${10_000 + n},Person ${n}`)];
      const content = `${rows.join('\r\n')}\r\n`;
      await Promise.all([drop(ia.spool, 'staff.csv', content), drop(ib.spool, 'staff.csv', content)]);
      const reports = await Promise.all([reportOf(ia), reportOf(ib)]);
      const states = reports.map((r) => r.state).sort();
      assert.deepEqual(states, ['done', 'duplicate'], JSON.stringify(reports.map((r) => [r.state, r.rows, r.reason])));
      const done = reports.find((r) => r.state === 'done')!;
      assert.deepEqual(done.rows, { imported: 3000, unchanged: 0, failed: 0 });
      assert.equal(await a.countUsers(), 3000);
      const ledger = await b.listImports();
      assert.equal(ledger.length, 1);
      assert.equal(ledger[0]!.state, 'done');
      assert.ok(ledger[0]!.claimedBy === 'A' || ledger[0]!.claimedBy === 'B');
      const imports = await a.queryEvents({ kind: 'import.' });
      assert.deepEqual(imports.map((e) => e.kind).sort(), ['import.done', 'import.duplicate'], 'one import, and one skip of the same content');
    } finally {
      await ia.folder.stop();
      await ib.folder.stop();
      await rm(ia.spool, { recursive: true, force: true });
      await rm(ib.spool, { recursive: true, force: true });
      await close();
    }
  });

  test('an import left running by an instance that is gone is resumed by another', { timeout: 60_000 }, async () => {
    const { a, b, close } = await twoStores();
    // Gone: its heartbeat ran out (it never beat here).
    await b.leases.heartbeat({ id: 'B', host: 'b', ttlMs: TTL, fresh: true });
    const ib = await instance('B', b);
    try {
      const content = 'user_id,name\r\n20001,Kai\r\n20002,Lee\r\n';
      const { createHash } = await import('node:crypto');
      const contentHash = createHash('sha256').update(content).digest('hex');
      await a.commit([{ type: 'putImport', record: { ...running('A'), hash: contentHash, file: 'left.csv' } }]);
      await drop(ib.spool, 'left.csv', content);
      const report = await reportOf(ib);
      assert.equal(report.state, 'done', JSON.stringify(report));
      assert.ok(report.notes.some((n) => /resumed/.test(n)), JSON.stringify(report.notes));
      assert.equal((await a.getImport(contentHash))?.claimedBy, 'B');
      assert.ok(await a.getUser('20002'));
    } finally {
      await ib.folder.stop();
      await rm(ib.spool, { recursive: true, force: true });
      await close();
    }
  });
}
