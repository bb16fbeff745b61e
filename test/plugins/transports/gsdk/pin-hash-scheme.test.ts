/**
 * The transport's PIN hash scheme (daemon/model/pin-provenance.ts) over real gRPC: learnt from
 * the gateway's hash of the probe PIN, cached, and asked again when the gateway goes away and
 * another answers at the same address.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PIN_HASH_PROBE, pinHashSchemeId } from '../../../../daemon/model/pin-provenance.js';
import { startSimulator, standInPinHash } from '../../../../simulator/index.js';
import { until } from '../../../helpers/ingest-spool.js';
import { startHarness } from './harness.js';

describe('gsdk transport: pinHashScheme', () => {
  test('a gateway of another scheme at the same address, after a reconnect, gives its own id', { timeout: 60_000 }, async () => {
    const h = await startHarness({}, [1001]);
    let other: Awaited<ReturnType<typeof startSimulator>> | undefined;
    try {
      const first = await h.transport.pinHashScheme();
      assert.equal(first, pinHashSchemeId(standInPinHash(PIN_HASH_PROBE)));
      assert.equal(h.transport.knownPinHashScheme, first);
      const port = h.sim.port;
      await h.sim.stop();
      await until('the transport forgot the scheme of the gateway that went away', () => h.transport.knownPinHashScheme === undefined, 30_000);
      other = await startSimulator({ devices: [{ id: 1001 }], port, pinHashSalt: 'elsewhere' });
      let second: string | undefined;
      await until('the other gateway answers', async () => {
        second = await h.transport.pinHashScheme().catch(() => undefined);
        return second !== undefined;
      }, 30_000);
      assert.equal(second, pinHashSchemeId(standInPinHash(PIN_HASH_PROBE, 'elsewhere')));
      assert.notEqual(second, first);
      assert.equal(await h.transport.pinHashScheme(), second, 'cached while connected');
    } finally {
      await other?.stop();
      await h.close();
    }
  });
});
