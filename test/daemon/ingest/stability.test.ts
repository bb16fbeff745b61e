import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SettlingFiles, type FileStat } from '../../../daemon/ingest/stability.js';

function stats(entries: Record<string, FileStat | undefined>): Map<string, FileStat | undefined> {
  return new Map(Object.entries(entries));
}

describe('settling files', () => {
  test('a file is taken once its size and mtime have not changed for stableMs', () => {
    const files = new SettlingFiles(1000);
    files.observe('a.csv', 0);
    // First poll: the quiet period starts from the first real stat.
    assert.deepEqual(files.poll(stats({ 'a.csv': { size: 10, mtimeMs: 1 } }), 100), []);
    assert.deepEqual(files.poll(stats({ 'a.csv': { size: 10, mtimeMs: 1 } }), 1099), []);
    assert.deepEqual(files.poll(stats({ 'a.csv': { size: 10, mtimeMs: 1 } }), 1100), ['a.csv']);
    assert.equal(files.has('a.csv'), false, 'a taken file leaves the set');
  });

  test('growth or a new mtime restarts the quiet period', () => {
    const files = new SettlingFiles(1000);
    files.observe('a.csv', 0);
    const table: [FileStat, number, string[]][] = [
      [{ size: 10, mtimeMs: 1 }, 0, []],
      [{ size: 20, mtimeMs: 2 }, 900, []],
      [{ size: 20, mtimeMs: 2 }, 1800, []],
      // Same size, rewritten: mtime changed.
      [{ size: 20, mtimeMs: 3 }, 1850, []],
      [{ size: 20, mtimeMs: 3 }, 2849, []],
      [{ size: 20, mtimeMs: 3 }, 2850, ['a.csv']],
    ];
    for (const [stat, now, expected] of table) assert.deepEqual(files.poll(stats({ 'a.csv': stat }), now), expected, `at ${now}`);
  });

  test('files that settle together are taken in the order first seen; a vanished file is dropped', () => {
    const files = new SettlingFiles(100);
    files.observe('b.csv', 0);
    files.observe('a.csv', 1);
    files.observe('gone.csv', 2);
    files.observe('b.csv', 3);
    const same = { size: 1, mtimeMs: 1 };
    assert.deepEqual(files.poll(stats({ 'a.csv': same, 'b.csv': same, 'gone.csv': same }), 10), []);
    assert.deepEqual(files.poll(stats({ 'a.csv': same, 'b.csv': same, 'gone.csv': undefined }), 200), ['b.csv', 'a.csv']);
    assert.equal(files.size, 0);
  });

  test('forget drops a file; stats of unknown names are ignored', () => {
    const files = new SettlingFiles(0);
    files.observe('a.csv', 0);
    files.forget('a.csv');
    assert.deepEqual(files.poll(stats({ 'a.csv': { size: 1, mtimeMs: 1 } }), 10), []);
    assert.deepEqual(files.names(), []);
  });
});
