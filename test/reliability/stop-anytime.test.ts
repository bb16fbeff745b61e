/**
 * Stop at any moment (issue 15, item 8), the fast version: six SIGTERMs during and after
 * start-up of a real `rollcall run` (stop-scenario.ts). Each ends by itself, in time, with
 * exit code 0, and nothing had to be forced. The 48-point version is stop-anytime.long.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanStop, describeOutcome, runPoints, type StopPoint } from './stop-scenario.js';

// The moments the audit found hanging (50 and 150 ms after /healthz, ~1.1 s after spawn),
// the middle of start-up, and a running daemon.
const POINTS: StopPoint[] = [
  { anchor: 'spawn', afterMs: 400 },
  { anchor: 'spawn', afterMs: 1100 },
  { anchor: 'healthz', afterMs: 50 },
  { anchor: 'healthz', afterMs: 150 },
  { anchor: 'running', afterMs: 0 },
  { anchor: 'running', afterMs: 300 },
];

test('a SIGTERM at six moments of start-up: each process ends by itself with exit 0', async () => {
  const outcomes = await runPoints(POINTS, 3);
  for (const o of outcomes) console.log(describeOutcome(o));
  const bad = outcomes.filter((o) => !cleanStop(o));
  assert.deepEqual(bad.map(describeOutcome), []);
});
