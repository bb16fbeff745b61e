/**
 * Benchmark 3, latency: N devices in all-devices-with-device-updates mode; K users are
 * enrolled at devices, one at a time and spaced apart, through the simulator's control
 * service (as a person at the device would: subCode 2 events). Each is timed from just
 * before the control call is sent (so the device event happens after the clock starts)
 * to the acknowledgement, by the last other device, of the merged user: the moment the
 * engine observes rollcall_device_event_to_fanout_seconds for it.
 *
 * Baseline in the same run: one gRPC round trip (GetStatistic of one device) from the same
 * process to the same simulator, sampled three times before every enrollment.
 *
 *   node dist/bench/latency.js [--quick] [--devices 100] [--enrollments 200] [--gap-ms 100]
 */
import { toUserInfo } from '../plugins/transports/gsdk/user-info.js';
import { UserService } from '../proto/gen/gsdk/user.js';
import { ControlService } from '../proto/gen/rollcall/sim/v1/sim.js';
import { userCounts } from './lib/device-ops.js';
import { EngineRig, until } from './lib/engine-rig.js';
import { GatewayClient } from './lib/gateway-client.js';
import { runIfMain, type BenchContext, type BenchDefinition, type BenchOutcome } from './lib/run.js';
import { startSimProcess } from './lib/sim-process.js';
import { siteUser } from './lib/site-users.js';
import { costRatio, round, summarize } from './lib/stats.js';

const MODE = 'all-devices-with-device-updates';
/** Users enrolled at devices get numbers from here, apart from any other benchmark's. */
const FIRST_DEVICE_USER = 500_000;

interface Observation {
  at: number;
  seconds: number;
}

/** Resolves observations of the engine's event-to-fan-out histogram as they happen. */
class FanoutWatch {
  readonly #seen: Observation[] = [];
  #waiter: ((o: Observation) => void) | undefined;

  constructor(rig: EngineRig) {
    const histogram = rig.engine.metrics.eventToFanout;
    const observe = histogram.observe.bind(histogram) as (value: number) => void;
    // The engine observes the histogram at the very moment the last device acknowledged.
    (histogram as { observe: (value: number) => void }).observe = (value: number): void => {
      observe(value);
      const observation = { at: performance.now(), seconds: value };
      const waiter = this.#waiter;
      this.#waiter = undefined;
      if (waiter) waiter(observation);
      else this.#seen.push(observation);
    };
  }

  next(timeoutMs: number): Promise<Observation> {
    const ready = this.#seen.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(new Error(`no fan-out observed within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiter = (o) => {
        clearTimeout(timer);
        resolve(o);
      };
    });
  }
}

export const latency: BenchDefinition = {
  name: 'latency',
  title: 'Device event to fan-out latency',
  options: {
    devices: { type: 'string' },
    enrollments: { type: 'string' },
    'gap-ms': { type: 'string' },
  },
  async run(ctx: BenchContext): Promise<BenchOutcome> {
    const quick = ctx.profile === 'quick';
    const n = Number(ctx.values['devices'] ?? (quick ? 10 : 100));
    const k = Number(ctx.values['enrollments'] ?? (quick ? 20 : 200));
    const gapMs = Number(ctx.values['gap-ms'] ?? 100);
    const sim = await startSimProcess({ devices: n });
    const gateway = new GatewayClient(sim.address);
    let rig: EngineRig | undefined;
    const external: number[] = [];
    const internal: number[] = [];
    const rtt: number[] = [];
    let simPeakRssBytes = 0;
    try {
      await gateway.ready();
      rig = await EngineRig.start({ address: sim.address, mode: MODE, followEvents: true });
      const started = rig;
      await until(`${n} devices connected and checked`, () => started.settled(n), { timeoutMs: 60_000, intervalMs: 20 });
      const watch = new FanoutWatch(rig);
      const ids = sim.deviceIds;
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < 3; j++) {
          const r0 = performance.now();
          await gateway.call(UserService.getStatistic, { deviceID: ids[(i + j) % n]! });
          rtt.push(performance.now() - r0);
        }
        const deviceID = ids[i % n]!;
        const user = toUserInfo(siteUser(FIRST_DEVICE_USER + i));
        const t0 = performance.now();
        await gateway.call(ControlService.enrollAtDevice, { deviceID, user });
        const seen = await watch.next(30_000);
        external.push(seen.at - t0);
        internal.push(seen.seconds * 1000);
        if ((i + 1) % 20 === 0) ctx.log(`${i + 1}/${k} enrollments; last ${round(seen.at - t0)} ms`);
        await new Promise((resolve) => setTimeout(resolve, gapMs));
      }
      // Every device holds every enrolled user: the figures are of a fan-out that happened.
      await until('every device to hold every enrolled user', async () => (await userCounts(gateway, ids)).every((c) => c === k), { timeoutMs: 30_000, intervalMs: 200 });
    } finally {
      await rig?.stop();
      gateway.close();
      simPeakRssBytes = (await sim.stop()).peakRssBytes;
    }
    const lat = summarize(external);
    const engineLat = summarize(internal);
    const trip = summarize(rtt);
    const row = (p: 'p50' | 'p95' | 'p99', budget?: number) => ({
      figure: `${p} of ${k} device-side enrollments, event → last of ${n - 1} other devices acknowledged`,
      measured: { value: lat[p], unit: 'ms' },
      baseline: { value: trip[p], unit: 'ms', label: `${p} of ${trip.n} gRPC round trips` },
      ratio: costRatio(lat[p], trip[p]),
      ...(budget !== undefined ? { budget: { text: `≤ ${budget} ms`, pass: lat[p] <= budget } } : {}),
    });
    return {
      rows: [row('p50', 50), row('p95'), row('p99', 250)],
      notes: [
        `${n} devices, sync mode ${MODE} with the device-event follower, the daemon's default sync settings; the simulator in its own process; ${k} users enrolled at devices in turn (EnrollAtDevice over the control service), each after the previous had fanned out and ${gapMs} ms more.`,
        `The clock starts before the control call is sent and stops when the engine records the acknowledgement by the last other device (it observes rollcall_device_event_to_fanout_seconds then). The engine's own measure, from the event's arrival at the daemon: p50 ${round(engineLat.p50)} ms, p95 ${round(engineLat.p95)} ms, p99 ${round(engineLat.p99)} ms, max ${round(engineLat.max)} ms.`,
        `Whole distribution (ms): min ${round(lat.min)}, p50 ${round(lat.p50)}, p95 ${round(lat.p95)}, p99 ${round(lat.p99)}, max ${round(lat.max)}. Round trip (GetStatistic): min ${round(trip.min)}, p50 ${round(trip.p50)}, max ${round(trip.max)} ms. Simulator peak RSS ${round(simPeakRssBytes / 2 ** 20)} MiB.`,
      ],
      details: { devices: n, enrollments: k, gapMs, latencyMs: external, engineLatencyMs: internal, roundTripMs: rtt },
    };
  },
};

runIfMain(import.meta.url, latency);
