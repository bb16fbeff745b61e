import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatQuantity, recordRun, renderResults, renderRun, type BenchRun } from '../../../bench/lib/results.js';
import { machineInfo } from '../../../bench/lib/machine.js';

function run(profile: BenchRun['profile'], value: number, name = 'fanout'): BenchRun {
  return {
    name,
    title: name === 'fanout' ? 'Fan-out' : 'Idle daemon',
    profile,
    command: `node dist/bench/${name}.js${profile === 'quick' ? ' --quick' : ''}`,
    machine: machineInfo(new Date('2026-01-02T03:04:05Z')),
    durationSeconds: 12.5,
    rows: [
      {
        figure: '10k users → 10 devices',
        measured: { value, unit: 's' },
        baseline: { value: 2, unit: 's', label: 'floor' },
        ratio: value / 2,
        budget: { text: '≤ 1.5× floor', pass: value / 2 <= 1.5 },
      },
    ],
    notes: ['a note'],
  };
}

test('quantities are written in the units a reader expects', () => {
  const cases: [Parameters<typeof formatQuantity>[0], string][] = [
    [{ value: 0.0123, unit: 's' }, '12.3 ms'],
    [{ value: 12.34, unit: 's' }, '12.3 s'],
    [{ value: 512, unit: 'B' }, '512 B'],
    [{ value: 3 * 2 ** 20, unit: 'B' }, '3 MiB'],
    [{ value: 2048, unit: 'B' }, '2 KiB'],
    [{ value: 123456.7, unit: 'rows/s' }, '123,457 rows/s'],
    [{ value: 1.234, unit: '%' }, '1.23 %'],
  ];
  for (const [q, text] of cases) assert.equal(formatQuantity(q), text);
});

test('a run renders as a table with its baseline, ratio, budget and verdict', () => {
  const passing = renderRun(run('full', 2.5));
  assert.match(passing, /\| 10k users → 10 devices \| 2\.5 s \| 2 s \(floor\) \| 1\.25× \| ≤ 1\.5× floor \| pass \|/);
  assert.match(passing, /2026-01-02 03:04 UTC/);
  assert.match(passing, /- a note/);
  assert.match(renderRun(run('full', 4)), /\| 2× \| ≤ 1\.5× floor \| \*\*miss\*\* \|/);
  assert.match(renderRun(run('quick', 4)), /\(quick: reduced sizes\)/);
});

test('the results page lists full runs before quick ones and names what missed', () => {
  const page = renderResults([run('quick', 2), run('full', 4), run('full', 1, 'idle')], '## Analysis\n\nwhy');
  assert.ok(page.indexOf('## Full sizes') < page.indexOf('## Quick runs'));
  assert.ok(page.indexOf('### Fan-out\n') < page.indexOf('### Idle daemon\n'), 'benchmarks in the issue\'s order');
  assert.match(page, /\| Fan-out \| full \| 2026-01-02 \| 0\/1 pass; missed: 10k users → 10 devices \|/);
  assert.match(page, /\| Fan-out \| quick \| 2026-01-02 \| 1\/1 pass \|/);
  assert.ok(page.trimEnd().endsWith('why'));
});

test('recordRun keeps the latest run of each profile and writes RESULTS.md', async () => {
  const benchDir = await mkdtemp(join(tmpdir(), 'rollcall-bench-test-'));
  try {
    await recordRun(run('full', 4), { benchDir });
    await recordRun(run('quick', 2), { benchDir });
    await recordRun(run('full', 2.5), { benchDir });
    const stored = JSON.parse(await readFile(join(benchDir, 'results', 'fanout.json'), 'utf8')) as Record<string, BenchRun>;
    assert.deepEqual(Object.keys(stored).sort(), ['full', 'quick']);
    assert.equal(stored['full']!.rows[0]!.measured.value, 2.5);
    const page = await readFile(join(benchDir, 'RESULTS.md'), 'utf8');
    assert.match(page, /\| 2\.5 s \|/);
    assert.doesNotMatch(page, /\| 4 s \|/);
  } finally {
    await rm(benchDir, { recursive: true, force: true });
  }
});
