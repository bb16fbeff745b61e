/**
 * promtool (Debian's prometheus package) for the tests: found on PATH, or its absence
 * reported the way this project wants: a failure in CI, a loud skip on a developer's
 * machine.
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { runCommand } from '../helpers/daemon-process.js';
import { findTool } from '../systemd/unit-file.js';

export const PROMTOOL_INSTALL = 'apt-get install --no-install-recommends prometheus (see README.md, "Monitoring")';

/**
 * The promtool binary, or undefined after skipping `t` (outside CI) or failing it (CI=true:
 * a CI machine without promtool must not pass as if the metrics were checked).
 */
export async function promtoolOrSkip(t: TestContext): Promise<string | undefined> {
  const path = await findTool('promtool');
  if (path !== undefined) return path;
  const message = `promtool is not installed: ${PROMTOOL_INSTALL}`;
  if (process.env.CI === 'true') assert.fail(`${message}. CI must check the metrics, so this fails.`);
  console.warn(`\n*** SKIPPED: ${message}. The metrics were NOT checked. ***\n`);
  t.skip(`SKIPPED: ${message}`);
  return undefined;
}

export interface PromtoolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs promtool with `input` on its standard input. */
export async function promtool(path: string, args: string[], input = ''): Promise<PromtoolResult> {
  const { code, stdout, stderr } = await runCommand(path, args, { input });
  return { code, stdout, stderr };
}
