/**
 * The simulator enforces a gateway's keepalive policy (simulator/keepalive-policy.ts): a client
 * that pings more often than the policy allows loses its connection with GOAWAY
 * "too_many_pings", one that keeps to it does not. The times are scaled down from the
 * gateway's 5 minutes; a client's timers never fire early, so the compliant case does not
 * depend on the machine's speed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { channelOptions, GATEWAY_KEEPALIVE_MIN_TIME_MS, KEEPALIVE_TIME_MS } from '../../plugins/transports/gsdk/credentials.js';
import { configSchema } from '../../plugins/transports/gsdk/schema.js';
import { ConnectService } from '../../proto/gen/gsdk/connect.js';
import { startSimulator } from '../../simulator/index.js';
import { GATEWAY_KEEPALIVE_POLICY, type KeepalivePolicy } from '../../simulator/keepalive-policy.js';

/** A status stream over a channel that pings every `keepaliveMs`; resolves with how it ended, or 'open'. */
async function holdStream(policy: KeepalivePolicy, keepaliveMs: number, holdMs: number): Promise<{ ended: grpc.StatusObject | 'open'; enforced: boolean }> {
  const sim = await startSimulator({ devices: [{ id: 1001 }], keepalive: policy });
  const client = new grpc.Client(sim.address, grpc.credentials.createInsecure(), {
    'grpc.keepalive_time_ms': keepaliveMs,
    'grpc.keepalive_timeout_ms': 5_000,
    'grpc.keepalive_permit_without_calls': 0,
  });
  try {
    const call = client.makeServerStreamRequest(
      ConnectService.subscribeStatus.path,
      ConnectService.subscribeStatus.requestSerialize,
      ConnectService.subscribeStatus.responseDeserialize,
      { queueSize: 16 },
      new grpc.Metadata(),
      {},
    );
    call.on('data', () => undefined);
    call.on('error', () => undefined);
    const ended = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    const holding = new AbortController();
    const held = sleep(holdMs, 'open' as const, { signal: holding.signal }).catch(() => 'open' as const);
    const outcome = await Promise.race([ended, held]);
    holding.abort();
    call.cancel();
    return { ended: outcome, enforced: sim.keepaliveEnforced };
  } finally {
    client.close();
    await sim.stop();
  }
}

test('the default policy is a real gateway\'s: grpc-go\'s MinTime of 5 minutes, no pings without a stream', () => {
  assert.deepEqual(GATEWAY_KEEPALIVE_POLICY, { minTimeMs: 300_000, permitWithoutStream: false });
  assert.equal(GATEWAY_KEEPALIVE_MIN_TIME_MS, GATEWAY_KEEPALIVE_POLICY.minTimeMs);
});

test('rollcall\'s channel keeps to that policy', () => {
  const options = channelOptions(configSchema.parse({ address: 'gw:4000', insecure: true }));
  assert.equal(options['grpc.keepalive_time_ms'], KEEPALIVE_TIME_MS);
  assert.ok(KEEPALIVE_TIME_MS >= GATEWAY_KEEPALIVE_POLICY.minTimeMs, String(KEEPALIVE_TIME_MS));
  assert.ok((options['grpc.keepalive_timeout_ms'] ?? 0) > 0);
  // The gateway does not permit pings without a stream, so rollcall sends none then.
  assert.equal(options['grpc.keepalive_permit_without_calls'], GATEWAY_KEEPALIVE_POLICY.permitWithoutStream ? 1 : 0);
});

test('a client that pings more often than the policy allows loses the connection, and its stream ends', async () => {
  const { ended, enforced } = await holdStream({ minTimeMs: 60_000, permitWithoutStream: false }, 100, 30_000);
  assert.equal(enforced, true);
  assert.notEqual(ended, 'open', 'the stream survived pings every 100 ms against a 60 s minimum');
  // grpc-js reports the GOAWAY ENHANCE_YOUR_CALM as RESOURCE_EXHAUSTED, or UNAVAILABLE when the connection closes first.
  assert.ok([grpc.status.RESOURCE_EXHAUSTED, grpc.status.UNAVAILABLE].includes((ended as grpc.StatusObject).code), JSON.stringify(ended));
});

test('a client that keeps to the policy keeps its stream', async () => {
  // Pings every 600 ms against a 150 ms minimum: four or five pings in 3 s, none a strike.
  const { ended, enforced } = await holdStream({ minTimeMs: 150, permitWithoutStream: false }, 600, 3_000);
  assert.equal(enforced, true);
  assert.equal(ended, 'open');
});
