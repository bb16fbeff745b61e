import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';

const child = fileURLToPath(new URL('../fixtures/simulator/exit-when-idle.js', import.meta.url));

test('stop() ends streams, answers waiting calls and releases every handle: the process exits by itself', { timeout: 60_000 }, async () => {
  const proc = spawn(process.execPath, [child], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const exitCode = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  assert.equal(exitCode, 0);
  const [json, last] = out.trim().split('\n');
  assert.equal(last, 'stopped');
  const outcome = JSON.parse(json ?? '{}') as { streams: string[]; hung: string; slow: string };
  assert.deepEqual(outcome.streams, ['end', 'end'], 'streams end with OK');
  assert.equal(outcome.hung, `error ${grpc.status.UNAVAILABLE}`);
  assert.equal(outcome.slow, `error ${grpc.status.UNAVAILABLE}`);
});
