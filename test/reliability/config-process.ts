/**
 * One corpus config through the real CLI: `check-config --json` and `run` must both exit 78
 * and name every expected path. The config's dataDir (when the case leaves it alone) points
 * into `dir`, so a `run` that got as far as creating its state would show there.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/daemon-process.js';
import type { ConfigCase } from './config-corpus.js';

export async function checkCaseAsProcess(c: ConfigCase, dir: string): Promise<void> {
  const file = join(dir, 'rollcall.yaml');
  await writeFile(file, c.text);
  const check = await runCli(['check-config', '--json', '--config', file], { cwd: dir });
  assert.equal(check.code, 78, `${c.name}: check-config exit ${check.code}; ${check.stdout}${check.stderr}`);
  const report = JSON.parse(check.stdout) as { valid: boolean; issues: { path: string }[] };
  assert.equal(report.valid, false);
  for (const path of c.paths) assert.ok(report.issues.some((i) => i.path === path), `${c.name}: check-config names ${path}: ${check.stdout}`);

  const run = await runCli(['run', '--config', file], { cwd: dir, timeoutMs: 30_000 });
  assert.equal(run.code, 78, `${c.name}: run exit ${run.code}; ${run.stderr}`);
  for (const path of c.paths) {
    const named = path === '(file)' ? run.stderr.includes(file) : run.stderr.includes(`  ${path}: `);
    assert.ok(named, `${c.name}: run names ${path}: ${run.stderr}`);
  }
}
