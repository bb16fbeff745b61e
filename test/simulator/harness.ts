import { startSimulator, type DeviceSpec, type RunningSimulator } from '../../simulator/index.js';
import { connectClients, type Clients } from './gsdk-client.js';

export interface Running {
  sim: RunningSimulator;
  c: Clients;
  close(): Promise<void>;
}

/** A simulator on a loopback port with proto-loader clients to it. */
export async function running(devices: DeviceSpec[], realtimeQueueDefault?: number): Promise<Running> {
  const sim = await startSimulator({ devices, ...(realtimeQueueDefault ? { realtimeQueueDefault } : {}) });
  const c = connectClients(sim.address);
  return {
    sim,
    c,
    close: async () => {
      c.close();
      await sim.stop();
    },
  };
}
