/** The transport contract suite against the gsdk transport, talking to the simulator over real gRPC on loopback. */
import { transportSuite } from '../../../contract/transport.suite.js';
import { simulatedDeviceSide } from './device-side.js';
import { startHarness } from './harness.js';

transportSuite('gsdk', async () => {
  const h = await startHarness({ deadlines: { defaultMs: 5000, longMs: 5000 } }, [1001, 1002, 1003]);
  return { transport: h.transport, devices: simulatedDeviceSide(h.sim, 4040), cleanup: () => h.close() };
});
