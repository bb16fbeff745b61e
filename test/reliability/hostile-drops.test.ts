/**
 * Reliability suite 4c, hostile drops (issue 15, items 5 and 6): what a member of the
 * daemon's group can put into incoming/ besides a file, and files made to cost work.
 *
 * - A symbolic link to a file the dropper may not read, a second hard link to it, a FIFO,
 *   a device node (when this user may make one) and a directory named like a CSV: each is
 *   refused with ROLLCALL_ERR_IMPORT_REFUSED and moved to failed/ as it is, never read
 *   through; the folder goes on with the next file.
 * - The audit's two hostile files (a 4 MB CSV of 2,000,000 one-cell rows, a data file of
 *   millions of empty lines), each in a child process of its own (hostile-bounds-child.ts):
 *   refused once past spool.rejects, with a journal and an error CSV of a few dozen KB
 *   and bounded memory (before: 159 MB of journal and 105 MB of error CSV for the CSV).
 * - An upload through the admin API past admin.maxUploadBytes: refused naming the limit.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { chmod, link, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AdminCallError, AdminConnection } from '../../daemon/admin/client.js';
import { SpoolHarness, listFiles } from '../helpers/ingest-spool.js';
import { AdminHarness } from '../daemon/admin/admin-harness.js';
import type { HostileFigures } from './hostile-bounds-child.js';

const CHILD = fileURLToPath(new URL('./hostile-bounds-child.js', import.meta.url));
const MiB = 1024 * 1024;
const SECRET = 'user_id,name\r\n4242,Only Root May Read This\r\n';

async function filesHolding(root: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const path of await listFiles(root)) {
    const info = await lstat(join(root, path));
    if (!info.isFile()) continue;
    if ((await readFile(join(root, path))).includes(needle)) found.push(path);
  }
  return found;
}

describe('reliability: hostile drops', () => {
  test('links, a FIFO, a device node and a directory in incoming/ are refused unread and moved to failed/; the folder goes on', { timeout: 60_000 }, async () => {
    const outside = await mkdtemp(join(tmpdir(), 'rollcall-outside-'));
    const secret = join(outside, 'secret.csv');
    await writeFile(secret, SECRET, { mode: 0o600 });
    await chmod(secret, 0o600);
    // A dangling link is not reported by the watcher (nothing to stat); it is found when
    // incoming/ is listed at start, and refused the same way.
    const spoolDir = join(outside, 'spool');
    await mkdir(join(spoolDir, 'incoming'), { recursive: true });
    await symlink(join(outside, 'nothing.csv'), join(spoolDir, 'incoming', 'dangling.csv'));
    const h = await SpoolHarness.start({ stableMs: 50, spoolDir });
    try {
      const incoming = h.path('incoming');
      const entries: { name: string; make: () => Promise<boolean>; says: RegExp }[] = [
        { name: 'dangling.csv', make: async () => true, says: /is a symbolic link/ },
        { name: 'link.csv', make: async () => (await symlink(secret, join(incoming, 'link.csv')), true), says: /is a symbolic link/ },
        { name: 'hardlink.csv', make: async () => (await link(secret, join(incoming, 'hardlink.csv')).then(() => true, () => false)), says: /other hard link/ },
        { name: 'fifo.csv', make: async () => spawnSync('mkfifo', [join(incoming, 'fifo.csv')]).status === 0, says: /named pipe/ },
        // A character device like /dev/null: needs CAP_MKNOD, so only as root.
        { name: 'device.csv', make: async () => spawnSync('mknod', [join(incoming, 'device.csv'), 'c', '1', '3']).status === 0, says: /device node/ },
        {
          name: 'folder.csv',
          make: async () => {
            await mkdir(join(incoming, 'folder.csv'));
            await writeFile(join(incoming, 'folder.csv', 'inner.csv'), SECRET);
            return true;
          },
          says: /is a directory/,
        },
      ];
      const made: typeof entries = [];
      for (const entry of entries) {
        if (await entry.make()) made.push(entry);
        else console.log(`# hostile drops: ${entry.name} could not be made here; skipped`);
      }
      assert.ok(made.length >= 4, `made ${made.map((e) => e.name).join(', ')}`);
      const reports = await h.reportsAtLeast(made.length);
      for (const entry of made) {
        const report = reports.find((r) => r.file === entry.name);
        assert.ok(report, `${entry.name} reported: ${JSON.stringify(reports)}`);
        assert.equal(report.state, 'failed', entry.name);
        assert.match(report.reason ?? '', /^ROLLCALL_ERR_IMPORT_REFUSED: /, entry.name);
        assert.match(report.reason ?? '', entry.says, entry.name);
        assert.match(report.reason ?? '', /regular files only/);
        assert.equal(report.path, `failed/${entry.name}`);
      }
      // Moved as they were: the link is still a link, the directory a directory.
      if (made.some((e) => e.name === 'link.csv')) assert.ok((await lstat(h.path('failed', 'link.csv'))).isSymbolicLink());
      assert.ok((await lstat(h.path('failed', 'folder.csv'))).isDirectory());
      assert.deepEqual(await readdir(incoming), []);
      // Nothing of the secret was read: not stored, not in any report or error CSV.
      assert.equal(await h.store.getUser('4242'), undefined);
      assert.equal(await h.store.countUsers(), 0);
      const leaks = (await filesHolding(h.spoolDir, 'Only Root May Read This')).filter((p) => !p.startsWith('failed/folder.csv/') && p !== 'failed/hardlink.csv');
      assert.deepEqual(leaks, []);
      assert.equal(await readFile(secret, 'utf8'), SECRET);

      // The folder goes on: a regular file after them is imported.
      await h.drop('good.csv', 'user_id,name\r\n5001,Regular\r\n');
      const [, ...after] = (await h.reportsAtLeast(made.length + 1)).slice(made.length - 1);
      assert.equal(after.at(-1)?.state, 'done');
      assert.ok(await h.store.getUser('5001'));
      console.log(`# hostile drops: ${made.map((e) => e.name).join(', ')} refused unread, a regular file after them imported`);
    } finally {
      await h.stop();
      await rm(outside, { recursive: true, force: true });
    }
  });

  for (const kind of ['one-cell-csv', 'empty-lines-datafile'] as const) {
    test(`the audit's ${kind}: refused past spool.rejects with a journal and an error CSV of a few KB, memory bounded`, { timeout: 300_000 }, async () => {
      const { stdout } = await promisify(execFile)(process.execPath, [CHILD, kind], { maxBuffer: 4 * MiB });
      const figures = JSON.parse(stdout.trim().split('\n').at(-1)!) as HostileFigures;
      console.log(
        `# hostile drops: ${kind} (${figures.fileBytes} bytes): ${figures.state}, ${figures.rows.failed} rows failed; ` +
          `RSS ${(figures.baselineRssBytes / MiB).toFixed(0)} → peak ${(figures.peakRssBytes / MiB).toFixed(0)} MiB, ` +
          `written ${(figures.writtenBytes / MiB).toFixed(1)} MiB, journal peak ${(figures.journalPeakBytes / 1024).toFixed(0)} KiB, ` +
          `error CSV ${(figures.errorsCsvBytes / 1024).toFixed(0)} KiB`,
      );
      assert.equal(figures.state, 'failed', JSON.stringify(figures));
      assert.match(figures.reason ?? '', /^ROLLCALL_ERR_IMPORT_REFUSED: .*spool\.rejects\./);
      assert.ok(figures.journalPeakBytes < 4 * MiB, `journal grew to ${figures.journalPeakBytes} bytes`);
      assert.ok(figures.errorsCsvBytes > 0 && figures.errorsCsvBytes < 4 * MiB, `error CSV of ${figures.errorsCsvBytes} bytes`);
      // The drop itself writes the file once (4 MB); before, the rejects wrote 264 MB more.
      assert.ok(figures.writtenBytes < 64 * MiB, `wrote ${figures.writtenBytes} bytes`);
      assert.ok(figures.peakRssBytes - figures.baselineRssBytes < 256 * MiB, `RSS grew from ${figures.baselineRssBytes} to ${figures.peakRssBytes}`);
    });
  }

  test('an upload past admin.maxUploadBytes is refused naming the limit; nothing is imported or left in staging', { timeout: 60_000 }, async () => {
    const h = await AdminHarness.start({ server: { maxUploadBytes: 64 * 1024 } });
    const c = await AdminConnection.open(h.socketPath);
    try {
      const row = '6001,Too Big\r\n';
      const chunk = Buffer.from(row.repeat(1024));
      const upload = (size: number) =>
        c.importStream({ name: 'big.csv', size }, (async function* () {
          yield Buffer.from('user_id,name\r\n');
          for (let i = 0; i < 8; i++) yield chunk;
        })());
      const refused = (error: unknown): boolean => {
        assert.ok(error instanceof AdminCallError, String(error));
        assert.equal(error.grpcCodeName, 'INVALID_ARGUMENT');
        assert.match(error.message, /more than admin\.maxUploadBytes \(65536 bytes\)/);
        return true;
      };
      // Declared too large: refused before a byte is written. Declared small but longer: cut off at the limit.
      for (const declared of [8 * chunk.length, 100]) {
        await assert.rejects(async () => {
          for await (const _ of upload(declared)) void _;
        }, refused);
      }
      assert.equal(await h.store.getUser('6001'), undefined);
      assert.deepEqual(await readdir(join(h.dir, 'staging')).catch(() => []), []);
      assert.deepEqual(await readdir(join(h.dir, 'spool', 'incoming')), []);
    } finally {
      c.close();
      await h.stop();
    }
  });
});
