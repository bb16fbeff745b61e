/** Human output helpers. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bytes, duration, list, relativeTime, table } from '../../../daemon/admin/format.js';

describe('format', () => {
  test('tables align columns and leave the last one unpadded', () => {
    assert.equal(table(['ID', 'NAME', 'X'], [['1', 'Ada', 'a'], ['1002', 'Bo', '']]), ['ID    NAME  X', '1     Ada   a', '1002  Bo'].join('\n'));
    assert.equal(table(['A', 'B'], [['é', 'x']]), 'A  B\né  x', 'width counts characters, not bytes');
  });

  test('relative times', () => {
    const now = Date.UTC(2026, 10, 23, 12);
    const cases: [number, string][] = [
      [now - 2000, 'just now'],
      [now - 42_000, '42s ago'],
      [now - 5 * 60_000, '5m ago'],
      [now - 3 * 3_600_000, '3h ago'],
      [now - 2 * 86_400_000, '2d ago'],
      [now + 5 * 60_000, 'in 5m'],
    ];
    for (const [at, text] of cases) assert.equal(relativeTime(at, now), text);
    assert.match(relativeTime(now - 40 * 86_400_000, now), /^2026-10-1[34]$/);
  });

  test('durations, sizes and lists', () => {
    assert.equal(duration(45_000), '45s');
    assert.equal(duration(3 * 3_600_000 + 2 * 60_000), '3h 2m');
    assert.equal(duration(2 * 86_400_000 + 4 * 3_600_000), '2d 4h');
    assert.equal(bytes(512), '512 B');
    assert.equal(bytes(1536), '1.5 KiB');
    assert.equal(list([1, 2, 3], 2), '1, 2 and 1 more');
    assert.equal(list([]), 'none');
  });
});
