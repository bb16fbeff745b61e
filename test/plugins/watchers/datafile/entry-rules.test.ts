import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { entryProblem, paxBytes, pathProblem, typeProblem, type EntryHeader } from '../../../../plugins/watchers/datafile/entry-rules.js';

describe('datafile entry rules', () => {
  const paths: [string, RegExp | undefined][] = [
    ['header.json', undefined],
    ['users-00001.jsonl', undefined],
    ['dir/file', undefined],
    ['./header.json', undefined],
    ['a..b', undefined],
    ['', /empty/],
    ['/etc/passwd', /absolute/],
    ['../x', /leaves the archive/],
    ['a/../../x', /leaves the archive/],
    ['a/..', /leaves the archive/],
    ['C:/Windows/x', /Windows path/],
    ['a\\b', /Windows path/],
    ['a\0b', /NUL/],
  ];
  for (const [name, expected] of paths) {
    test(`path ${JSON.stringify(name)}`, () => {
      const problem = pathProblem(name);
      if (expected === undefined) assert.equal(problem, undefined);
      else assert.match(problem ?? '', expected);
    });
  }

  const types: [string | null, RegExp | undefined][] = [
    ['file', undefined],
    ['directory', undefined],
    ['symlink', /symbolic link/],
    ['link', /hard link/],
    ['character-device', /character device/],
    ['block-device', /block device/],
    ['fifo', /FIFO/],
    ['contiguous-file', /contiguous/],
    [null, /type is unknown/],
  ];
  for (const [type, expected] of types) {
    test(`type ${String(type)}`, () => {
      const problem = typeProblem(type, 'target');
      if (expected === undefined) assert.equal(problem, undefined);
      else assert.match(problem ?? '', expected);
    });
  }

  test('pax records are measured by their bytes', () => {
    assert.equal(paxBytes(null), 0);
    assert.equal(paxBytes({ path: 'ä' }), 4 + 2 + 4);
  });

  const entries: [string, EntryHeader, RegExp | undefined][] = [
    ['a plain member', { name: 'users-00001.jsonl', type: 'file', size: 10 }, undefined],
    ['a member at the cap', { name: 'users-00001.jsonl', type: 'file', size: 100 }, undefined],
    ['a member past the cap', { name: 'users-00001.jsonl', type: 'file', size: 101 }, /above maxEntryBytes \(100\)/],
    ['a NaN size', { name: 'users-00001.jsonl', type: 'file', size: Number.NaN }, /not a valid size/],
    ['a huge pax', { name: 'users-00001.jsonl', type: 'file', size: 1, pax: { comment: 'x'.repeat(70_000) } }, /pax/],
    ['path before type', { name: '../x', type: 'symlink', size: 0 }, /leaves the archive/],
    ['type before size', { name: 'x', type: 'fifo', size: 1e12 }, /FIFO/],
  ];
  for (const [label, header, expected] of entries) {
    test(`entry: ${label}`, () => {
      const problem = entryProblem(header, 100);
      if (expected === undefined) assert.equal(problem, undefined);
      else assert.match(problem ?? '', expected);
    });
  }
});
