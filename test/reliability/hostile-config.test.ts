/**
 * Reliability suite 4a, hostile configs: every config of the corpus is refused with an error
 * naming the bad key's path. In-process for the whole corpus (the same read and validation
 * `check-config` and `run` use), and as real processes for a few: `check-config --json` and
 * `run` exit 78 and `run` writes nothing. `hostile-config.long.ts` runs every case as a process.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig, validateConfig, type ConfigIssue } from '../../daemon/config/load.js';
import { BUILTIN_PLUGINS } from '../../daemon/plugins/registry.js';
import { isRollcallError } from '../../daemon/errors.js';
import { CONFIG_CORPUS, type ConfigCase } from './config-corpus.js';
import { checkCaseAsProcess } from './config-process.js';

async function issuesOf(file: string): Promise<ConfigIssue[]> {
  try {
    const source = await readConfig({ configPath: file });
    const result = validateConfig(source, BUILTIN_PLUGINS);
    return result.ok ? [] : result.issues;
  } catch (error) {
    assert.ok(isRollcallError(error, 'ROLLCALL_ERR_CONFIG_INVALID'), `unexpected error ${String(error)}`);
    return (error.detail?.issues as ConfigIssue[] | undefined) ?? [];
  }
}

describe('reliability: hostile configs', () => {
  test(`each of the ${CONFIG_CORPUS.length} invalid configs is refused with its path`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rollcall-hostile-config-'));
    try {
      const misses: string[] = [];
      for (const [i, c] of CONFIG_CORPUS.entries()) {
        const file = join(dir, `case-${i}.yaml`);
        await writeFile(file, c.text);
        const issues = await issuesOf(file);
        const paths = issues.map((issue) => issue.path);
        for (const path of c.paths) if (!paths.includes(path)) misses.push(`${c.name}: expected an issue at ${path}, got ${JSON.stringify(issues)}`);
      }
      assert.deepEqual(misses, []);
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'a __proto__ key polluted Object.prototype');
      console.log(`# hostile configs: ${CONFIG_CORPUS.length} cases refused in-process, each with its path`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  const sample: ConfigCase[] = [CONFIG_CORPUS.find((c) => c.name === 'several problems at once')!];
  for (const c of sample) {
    test(`as processes: ${c.name} → exit 78 from check-config and run, nothing written`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'rollcall-hostile-config-'));
      try {
        await checkCaseAsProcess(c, dir);
        assert.deepEqual(await readdir(dir), ['rollcall.yaml'], 'run wrote nothing beside the config');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
