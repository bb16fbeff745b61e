/**
 * The datafile watcher inside the real ingest host: a spool in a temp folder, a LevelDB
 * store, chokidar. A file dropped into incoming/ is imported, refused or exported the way
 * an operator will see it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { User } from '../../../../daemon/model/user.js';
import { readDataFile } from '../../../../plugins/watchers/datafile/reader.js';
import { exportDataFile, writeDataFile } from '../../../../plugins/watchers/datafile/writer.js';
import { SpoolHarness } from '../../../helpers/ingest-spool.js';
import { bareUser, fullUser, range, streamOf } from '../../../fixtures/datafile/users.js';
import { headerJson, manifestJson, recordLine, tarEntry, tgz, type MemberText } from './corpus.js';

async function dataFile(users: User[], templateFormat: 'SUPREMA' | 'ISO' = 'SUPREMA'): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  await writeDataFile(streamOf(users), out, { templateFormat, membersUsers: 4 });
  return Buffer.concat(chunks);
}

describe('datafile watcher in the drop folder', () => {
  test('a dropped data file becomes users with every credential, and bad records land in the error CSV', async () => {
    const h = await SpoolHarness.start({ datafile: { batchSize: 3 } });
    try {
      const users = [...range(1, 4).map(fullUser), ...range(5, 9).map(bareUser)];
      await h.drop('rollcall_20250102_030405.tgz', await dataFile(users));
      const body = `${recordLine('21')}{"id":"22","name":false}\n${recordLine('23')}`;
      const member: MemberText = { name: 'users-00001.jsonl', body };
      await h.drop(
        'rollcall_20250102_030406.tgz',
        tgz([tarEntry({ name: 'header.json', body: headerJson() }), tarEntry({ name: member.name, body }), tarEntry({ name: 'manifest.json', body: manifestJson([member]) })]),
      );
      const reports = await h.reportsAtLeast(2);
      const whole = reports.find((report) => report.file === 'rollcall_20250102_030405.tgz')!;
      assert.equal(whole.state, 'done');
      assert.equal(whole.format, 'datafile');
      assert.deepEqual(whole.rows, { imported: 9, unchanged: 0, failed: 0 });
      for (const user of users) assert.deepEqual(await h.store.getUser(user.id), user);

      const partly = reports.find((report) => report.file === 'rollcall_20250102_030406.tgz')!;
      assert.deepEqual(partly.rows, { imported: 2, unchanged: 0, failed: 1 });
      const errors = await h.read(partly.errorsCsv!);
      assert.match(errors, /record,user_id/);
      assert.match(errors, /2,22,.*name: /);
      assert.equal((await h.store.getImport(partly.hash))?.checkpoint, 3);
    } finally {
      await h.stop();
    }
  });

  test('a hostile file goes to failed/ with its reason, and nothing of it is imported', async () => {
    const h = await SpoolHarness.start({ datafile: {} });
    try {
      await h.drop(
        'rollcall_20250102_030407.tgz',
        tgz([
          tarEntry({ name: 'header.json', body: headerJson() }),
          tarEntry({ name: 'users-00001.jsonl', body: recordLine('31') }),
          tarEntry({ name: '../../etc/cron.d/evil', body: '* * * * * root sh\n' }),
        ]),
      );
      await h.drop('BioStar2_20250102_030408.tgz', tgz([tarEntry({ name: 'usr_info.dat', body: 'binary' })]));
      const reports = await h.reportsAtLeast(2);
      const hostile = reports.find((report) => report.file === 'rollcall_20250102_030407.tgz')!;
      assert.equal(hostile.state, 'failed');
      assert.match(hostile.reason!, /member '\.\.\/\.\.\/etc\/cron\.d\/evil': its path leaves the archive/);
      assert.equal(hostile.path, 'failed/rollcall_20250102_030407.tgz');
      assert.equal(await h.store.getUser('31'), undefined);
      const biostar = reports.find((report) => report.file === 'BioStar2_20250102_030408.tgz')!;
      assert.equal(biostar.state, 'failed');
      assert.match(biostar.reason!, /BioStar's own data-file format is not public/);
    } finally {
      await h.stop();
    }
  });

  test('an export through the host lands in outgoing/ under the watcher\'s name and reads back whole', async () => {
    const h = await SpoolHarness.start({ datafile: { site: 'HQ' } });
    try {
      const users = range(1, 6).map(fullUser);
      await h.drop('rollcall_20250102_030409.tgz', await dataFile(users));
      await h.reportsAtLeast(1);
      const result = await h.folder.exportUsers('datafile');
      assert.equal(result.users, 6);
      assert.match(result.path, /outgoing\/rollcall_\d{8}_\d{6}\.tgz$/);
      assert.deepEqual(await readdir(h.path('outgoing')), [result.path.split('/').at(-1)]);
      const read: User[] = [];
      for await (const item of readDataFile(createReadStream(result.path), { siteTemplateFormat: 'SUPREMA' })) {
        if (item.type === 'user') read.push(item.user);
      }
      assert.deepEqual(read, users);
    } finally {
      await h.stop();
    }
  });

  test('a data-file export is 0600 (PIN hashes, templates); a CSV export beside it stays 0640', async () => {
    // umask 0: the modes are the ones rollcall asks for, not what the umask leaves of them.
    const umask = process.umask(0);
    const h = await SpoolHarness.start({ datafile: {} });
    const elsewhere = await mkdtemp(join(tmpdir(), 'rollcall-export-mode-'));
    try {
      await h.drop('rollcall_20250102_030409.tgz', await dataFile(range(1, 3).map(fullUser)));
      await h.reportsAtLeast(1);
      const modeOf = async (path: string): Promise<string> => ((await stat(path)).mode & 0o777).toString(8);
      assert.equal(await modeOf((await h.folder.exportUsers('datafile')).path), '600');
      assert.equal(await modeOf((await h.folder.exportUsers('datafile', { out: elsewhere })).path), '600');
      assert.equal(await modeOf((await h.folder.exportUsers('csv')).path), '640');
      assert.equal(await modeOf(await exportDataFile(streamOf(range(1, 2).map(fullUser)), elsewhere, { templateFormat: 'SUPREMA' })), '600');
    } finally {
      process.umask(umask);
      await h.stop();
      await rm(elsewhere, { recursive: true, force: true });
    }
  });
});
