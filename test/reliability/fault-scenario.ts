/**
 * The device-fault scenario shared by the fast and long suites: three healthy devices beside
 * four faulty ones (a disconnect/reconnect storm, hung calls with error bursts, a slow device,
 * a full device), on the simulator in its own process. The same workload runs with the faults off and on, in alternating phases of
 * one run, and the healthy devices' per-commit sync latency is kept for each.
 */
import { status } from '@grpc/grpc-js';
import { makeUser } from '../helpers/sync-harness.js';
import { FaultBench } from './fault-bench.js';

export const HEALTHY = [4001, 4002, 4003];
export const STORM = 4004;
export const HUNG = 4005;
export const SLOW = 4006;
export const FULL = 4007;
export const FAULTY = [STORM, HUNG, SLOW, FULL];

export interface ScenarioFigures {
  clean: number[];
  faulty: number[];
  commits: number;
}

export async function startFaultBench(): Promise<FaultBench> {
  const b = await FaultBench.create(HEALTHY.length + FAULTY.length, HEALTHY[0]!, { backoff: { baseMs: 50, factor: 1.6, maxMs: 400 }, quarantine: { after: 6, retryMs: 800 } }, { deadlines: { defaultMs: 800, longMs: 1200 } });
  await b.settled();
  return b;
}

/**
 * Turns the faults on through the simulator's control service; returns a function that turns
 * them off again (and ends the storm).
 */
async function faultsOn(b: FaultBench): Promise<() => Promise<void>> {
  const { gw } = b;
  await gw.setFault(HUNG, { hangCount: 3, errorRate: 0.3, errorRateCode: status.UNAVAILABLE, errorRateSeed: 7 });
  await gw.setFault(SLOW, { latencyMs: 150 });
  await gw.setCapacity(FULL, { maxUsers: 5 });
  // The storm: the device drops off and comes back every 40 ms until the faults end.
  let storming = true;
  const storm = (async () => {
    for (let up = true; storming; up = !up) {
      await new Promise((r) => setTimeout(r, 40));
      await (up ? gw.disconnect(STORM) : gw.reconnect(STORM));
    }
  })();
  return async () => {
    storming = false;
    await storm;
    await gw.reconnect(STORM);
    await gw.clearFaults(HUNG);
    await gw.clearFaults(SLOW);
    await gw.setCapacity(FULL, { maxUsers: 500_000 });
  };
}

/**
 * `phases` alternating phases (clean first) of `commitsPerPhase` commits of `usersPerCommit`
 * new users each; every commit is timed on the healthy devices.
 */
export async function runPhases(b: FaultBench, phases: number, commitsPerPhase: number, usersPerCommit: number, firstId = 1): Promise<ScenarioFigures> {
  const figures: ScenarioFigures = { clean: [], faulty: [], commits: 0 };
  let next = firstId;
  for (let phase = 0; phase < phases; phase++) {
    const faulty = phase % 2 === 1;
    const off = faulty ? await faultsOn(b) : undefined;
    try {
      for (let c = 0; c < commitsPerPhase; c++) {
        const users = Array.from({ length: usersPerCommit }, () => makeUser(String(next++), { department: `phase ${phase}` }));
        const latency = await b.timedCommit(users, HEALTHY);
        (faulty ? figures.faulty : figures.clean).push(...latency.values());
        figures.commits++;
      }
    } finally {
      await off?.();
    }
  }
  return figures;
}
