/**
 * Reliability suite 4a, long form: every config of the corpus through the real CLI
 * (`check-config --json` and `run`), two processes at a time. Run by `npm run test:reliability`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_CORPUS } from './config-corpus.js';
import { checkCaseAsProcess } from './config-process.js';

test(`all ${CONFIG_CORPUS.length} invalid configs exit 78 from check-config and run, with their paths`, { timeout: 600_000 }, async () => {
  const queue = [...CONFIG_CORPUS];
  let processes = 0;
  const worker = async (): Promise<void> => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const dir = await mkdtemp(join(tmpdir(), 'rollcall-hostile-config-'));
      try {
        await checkCaseAsProcess(c, dir);
        processes += 2;
        assert.deepEqual(await readdir(dir), ['rollcall.yaml'], `${c.name}: run wrote nothing beside the config`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  };
  await Promise.all([worker(), worker()]);
  console.log(`# hostile configs (processes): ${CONFIG_CORPUS.length} cases, ${processes} CLI runs, all exit 78 with their paths`);
});
