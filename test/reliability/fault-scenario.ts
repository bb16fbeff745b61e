/**
 * The device-fault scenario shared by the fast and long suites: three healthy devices beside
 * four faulty ones (a disconnect/reconnect storm, hung calls with error bursts, a slow device,
 * a full device). The same workload runs with the faults off and on, in alternating phases of
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
  return FaultBench.create(
    [...HEALTHY, ...FAULTY].map((id) => ({ id })),
    { backoff: { baseMs: 50, factor: 1.6, maxMs: 400 }, quarantine: { after: 6, retryMs: 800 } },
    { deadlines: { defaultMs: 800, longMs: 1200 } },
  );
}

/** Turns the faults on; returns a function that turns them off again (and stops the storm). */
function faultsOn(b: FaultBench): () => void {
  b.sim.device(HUNG).setFault({ hangCount: 3, errorRate: 0.3, errorRateCode: status.UNAVAILABLE, errorRateSeed: 7 });
  b.sim.device(SLOW).setFault({ latencyMs: 150 });
  b.sim.device(FULL).setCapacity({ maxUsers: 5 });
  let up = true;
  const storm = setInterval(() => {
    up = !up;
    if (up) b.sim.device(STORM).reconnect();
    else b.sim.device(STORM).disconnect();
  }, 40);
  return () => {
    clearInterval(storm);
    b.sim.device(STORM).reconnect();
    b.sim.device(HUNG).clearFaults();
    b.sim.device(SLOW).clearFaults();
    b.sim.device(FULL).setCapacity({ maxUsers: 500_000 });
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
    const off = faulty ? faultsOn(b) : undefined;
    try {
      for (let c = 0; c < commitsPerPhase; c++) {
        const users = Array.from({ length: usersPerCommit }, () => makeUser(String(next++), { department: `phase ${phase}` }));
        const latency = await b.timedCommit(users, HEALTHY);
        (faulty ? figures.faulty : figures.clean).push(...latency.values());
        figures.commits++;
      }
    } finally {
      off?.();
    }
  }
  return figures;
}
