import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  dayFolder,
  defaultExportName,
  describePatterns,
  isTemporaryName,
  numberedName,
  patternRegExp,
  watcherFor,
} from '../../../daemon/ingest/names.js';

describe('drop-folder names', () => {
  test('temporary and hidden names are never taken', () => {
    const cases: [string, boolean][] = [
      ['users.csv', false],
      ['rollcall_20250102_030405.tgz', false],
      ['.users.csv', true],
      ['.~lock.users.csv#', true],
      ['users.csv.partial', true],
      ['users.csv.part', true],
      ['users.csv.tmp', true],
      ['users.csv.crdownload', true],
      ['users.csv.filepart', true],
      ['~$users.csv', true],
      ['users.csv~', true],
      ['partial.csv', false],
    ];
    for (const [name, temporary] of cases) assert.equal(isTemporaryName(name), temporary, name);
  });

  test('patterns: * and ? only, everything else literal, case-sensitive', () => {
    const cases: [string, string, boolean][] = [
      ['*.csv', 'a.csv', true],
      ['*.csv', 'a.CSV', false],
      ['*.csv', 'acsv', false],
      ['*.csv', 'a.csv.bak', false],
      ['rollcall_*.tgz', 'rollcall_20250102_030405.tgz', true],
      ['rollcall_*.tgz', 'Rollcall_x.tgz', false],
      ['file?.csv', 'file1.csv', true],
      ['file?.csv', 'file12.csv', false],
      ['a+b(1).csv', 'a+b(1).csv', true],
      ['a+b(1).csv', 'aab1.csv', false],
      ['*', 'line\nbreak', true],
    ];
    for (const [pattern, name, matches] of cases) assert.equal(patternRegExp(pattern).test(name), matches, `${pattern} ~ ${name}`);
  });

  test('a name goes to the first watcher whose pattern matches', () => {
    const csv = { format: 'csv', patterns: ['*.csv', '*.CSV'] };
    const datafile = { format: 'datafile', patterns: ['rollcall_*.tgz', 'BioStar2_*.tgz'] };
    const all = [csv, datafile];
    assert.equal(watcherFor('a.CSV', all), csv);
    assert.equal(watcherFor('BioStar2_x.tgz', all), datafile);
    assert.equal(watcherFor('notes.txt', all), undefined);
    assert.equal(watcherFor('a.csv', [{ format: 'other', patterns: ['*'] }, csv])?.format, 'other');
    assert.equal(describePatterns(all), 'csv: *.csv, *.CSV; datafile: rollcall_*.tgz, BioStar2_*.tgz');
    assert.equal(describePatterns([]), 'no watcher is running');
  });

  test('numbered names keep the extension, so the pattern still matches', () => {
    const cases: [string, number, string][] = [
      ['users.csv', 1, 'users.csv'],
      ['users.csv', 2, 'users_2.csv'],
      ['users.csv', 13, 'users_13.csv'],
      ['my.users.csv', 2, 'my.users_2.csv'],
      ['rollcall_20250102_030405.tgz', 2, 'rollcall_20250102_030405_2.tgz'],
      ['backup.tar.gz', 3, 'backup_3.tar.gz'],
      ['README', 2, 'README_2'],
      ['.csv', 2, '.csv_2'],
    ];
    for (const [name, attempt, expected] of cases) assert.equal(numberedName(name, attempt), expected, `${name} #${attempt}`);
  });

  test('day folders are local dates; default export names are UTC stamps with the pattern\'s extension', () => {
    assert.equal(dayFolder(new Date(2025, 0, 2, 23, 59)), '2025-01-02');
    assert.equal(dayFolder(new Date(2025, 11, 31, 0, 0)), '2025-12-31');
    const at = new Date(Date.UTC(2025, 0, 2, 3, 4, 5));
    assert.equal(defaultExportName(at, { format: 'csv', patterns: ['*.csv', '*.CSV'] }), 'rollcall_20250102_030405.csv');
    assert.equal(defaultExportName(at, { format: 'datafile', patterns: ['rollcall_*.tgz'] }), 'rollcall_20250102_030405.tgz');
    assert.equal(defaultExportName(at, { format: 'odd', patterns: ['*'] }), 'rollcall_20250102_030405.odd');
  });
});
