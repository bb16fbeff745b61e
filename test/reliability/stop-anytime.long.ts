/**
 * Stop at any moment (issue 15, item 8): 48 SIGTERMs spread from the spawn to well after
 * ready (16 after the spawn, 0 to 1.6 s; 16 after /healthz first answers, 0 to 0.8 s; 16
 * after `rollcall is running`, 0 to 2 s), each on its own real `rollcall run`
 * (stop-scenario.ts). Every one ends by itself within shutdown.timeoutMs with exit 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanStop, describeOutcome, runPoints, spreadPoints } from './stop-scenario.js';

test('48 SIGTERMs over start-up: every process ends by itself with exit 0', async () => {
  const outcomes = await runPoints(spreadPoints(48), 2);
  for (const o of outcomes) console.log(describeOutcome(o));
  const exitMs = outcomes.map((o) => o.exitMs).sort((a, b) => a - b);
  const byKernel = outcomes.filter((o) => o.signal === 'SIGTERM').length;
  console.log(`points ${outcomes.length}, clean ${outcomes.filter(cleanStop).length}, ended by the default SIGTERM action before rollcall's code ran ${byKernel}, SIGTERM→exit median ${exitMs[exitMs.length >> 1]} ms, max ${exitMs.at(-1)} ms`);
  const bad = outcomes.filter((o) => !cleanStop(o));
  assert.deepEqual(bad.map(describeOutcome), []);
});
