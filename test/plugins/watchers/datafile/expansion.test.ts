import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ExpansionMeter } from '../../../../plugins/watchers/datafile/expansion.js';

const MiB = 1024 * 1024;

describe('datafile expansion meter', () => {
  const cases: [string, number, number, RegExp | undefined][] = [
    ['small files are not judged by ratio', 1000, MiB - 1, undefined],
    ['a ratio at the cap passes', 10 * 1024, 200 * 10 * 1024, undefined],
    ['a ratio past the cap is hostile', 10 * 1024, 200 * 10 * 1024 + 1, /expands 200:1 so far, above maxRatio \(200:1\)/],
    ['past the total is hostile', 64 * MiB, 64 * MiB + 1, /past maxTotalBytes \(67108864 bytes\)/],
  ];
  for (const [label, compressed, expanded, expected] of cases) {
    test(label, () => {
      const meter = new ExpansionMeter({ maxRatio: 200, maxTotalBytes: 64 * MiB }, () => ({ member: 'users-00001.jsonl' }));
      meter.compressed = compressed;
      meter.expanded = expanded;
      const problem = meter.problem();
      if (expected === undefined) {
        assert.equal(problem, undefined);
      } else {
        assert.equal(problem?.code, 'ROLLCALL_ERR_ARCHIVE_HOSTILE');
        assert.match(problem?.message ?? '', /^member 'users-00001\.jsonl': /);
        assert.match(problem?.message ?? '', expected);
      }
    });
  }
});
