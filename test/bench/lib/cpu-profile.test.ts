import { test } from 'node:test';
import assert from 'node:assert/strict';
import { functionTimes, shortUrl, type CpuProfile } from '../../../bench/lib/cpu-profile.js';

const frame = (functionName: string, url = 'file:///work/main/dist/daemon/sync/planner.js', lineNumber = 9) => ({ functionName, url, lineNumber, columnNumber: 0 });

// root → main → plan → hash, and main → commit
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)', ''), children: [2] },
    { id: 2, callFrame: frame('main'), children: [3, 5] },
    { id: 3, callFrame: frame('plan'), children: [4] },
    { id: 4, callFrame: frame('hash', 'file:///work/main/node_modules/x/index.js', 0) },
    { id: 5, callFrame: frame('commit') },
  ],
  startTime: 0,
  endTime: 50_000,
  samples: [4, 4, 3, 5, 2],
  timeDeltas: [10_000, 10_000, 10_000, 10_000, 10_000],
};

test('self and total time per function, heaviest self first', () => {
  const times = functionTimes(profile);
  const byName = new Map(times.map((t) => [t.name, t]));
  assert.equal(times[0]!.name, 'hash');
  assert.deepEqual([byName.get('hash')!.selfMs, byName.get('hash')!.totalMs], [20, 20]);
  assert.deepEqual([byName.get('plan')!.selfMs, byName.get('plan')!.totalMs], [10, 30]);
  assert.deepEqual([byName.get('main')!.selfMs, byName.get('main')!.totalMs], [10, 50]);
  assert.equal(byName.get('hash')!.where, 'x/index.js:1');
  assert.equal(byName.get('plan')!.where, 'daemon/sync/planner.js:10');
});

test('a window keeps only the samples inside it', () => {
  const times = functionTimes(profile, { fromMs: 25, toMs: 45 });
  assert.deepEqual(
    times.map((t) => [t.name, t.selfMs]).filter(([, ms]) => (ms as number) > 0),
    [
      ['plan', 10],
      ['commit', 10],
    ],
  );
});

test('places are shortened to the tree or the package', () => {
  assert.equal(shortUrl(''), '(native)');
  assert.equal(shortUrl('file:///a/node_modules/@grpc/grpc-js/build/src/x.js'), '@grpc/grpc-js/build/src/x.js');
  assert.equal(shortUrl('file:///work/main/dist/bench/fanout.js'), 'bench/fanout.js');
  assert.equal(shortUrl('node:internal/buffer'), 'node:internal/buffer');
});
