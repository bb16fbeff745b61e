/**
 * The failover suite's figures as a bench result (bench/results/failover.json, shown in
 * bench/RESULTS.md by bench/lib/results.ts), written only when ROLLCALL_RECORD_RESULTS=1:
 * a test run in CI leaves the source tree alone.
 */
import { machineInfo } from '../../bench/lib/machine.js';
import { benchSourceDir } from '../../bench/lib/paths.js';
import { recordRun, type ResultRow } from '../../bench/lib/results.js';

type P99 = { seconds: number; bucketLe: number; count: number } | undefined;
type Fanout = { p99Ms: number; fanoutP99Ms: number; fanoutMaxMs: number; writes: number; samples: number };

export interface FailoverFigures {
  suiteSeconds: number;
  killLeasesMs: number;
  killServedMs: number;
  stopLeasesMs: number;
  stopServedMs: number;
  rebalanceMs: number;
  settledMs: number;
  p99: { before: P99; during: P99; after: P99 };
  fanout: { before: Fanout; during: Fanout; after: Fanout };
  calls: number;
  handedOver: number;
  twoInstances: number;
  outsideOwnLease: number;
  verified: number;
  unclean: number;
  settings: { devices: number; users: number; leaseTtlMs: number; renewIntervalMs: number; stopMs: number; writeEveryMs: number };
}

export async function recordFailoverRun(f: FailoverFigures): Promise<void> {
  if (process.env['ROLLCALL_RECORD_RESULTS'] !== '1') return;
  const s = (ms: number): { value: number; unit: string } => ({ value: Math.round(ms) / 1000, unit: 's' });
  const p99 = (p: P99): { value: number; unit: string } => ({ value: p ? Math.round(p.seconds * 1000) / 1000 : Number.NaN, unit: 's' });
  const bound = 30 + f.settings.renewIntervalMs / 1000;
  const rows: ResultRow[] = [
    { figure: 'SIGKILL → every device served again', measured: s(f.killServedMs), budget: { text: `≤ 30 s after the last renewal (≤ ${bound} s after the kill)`, pass: f.killServedMs / 1000 <= bound } },
    { figure: 'SIGKILL → its devices leased by the others', measured: s(f.killLeasesMs) },
    { figure: 'SIGSTOP → every device served again', measured: s(f.stopServedMs), budget: { text: `≤ ${bound} s`, pass: f.stopServedMs / 1000 <= bound } },
    { figure: 'SIGCONT → shares even again', measured: s(f.rebalanceMs) },
    { figure: 'sync latency p99 before (commit → each device)', measured: s(f.fanout.before.p99Ms) },
    { figure: 'sync latency p99 during', measured: s(f.fanout.during.p99Ms) },
    { figure: 'sync latency p99 after', measured: s(f.fanout.after.p99Ms), budget: { text: '≤ 2.5 s', pass: f.fanout.after.p99Ms <= 2500 } },
    { figure: `fan-out to all ${f.settings.devices} devices p99 during`, measured: s(f.fanout.during.fanoutP99Ms) },
    { figure: 'sync latency p99 during, daemons\' histogram', measured: p99(f.p99.during) },
    { figure: 'sync latency p99 after, daemons\' histogram', measured: p99(f.p99.after) },
    { figure: 'calls from two instances in one lease period', measured: { value: f.twoInstances, unit: 'calls' }, budget: { text: '0', pass: f.twoInstances === 0 } },
    { figure: 'calls without a live lease of the caller', measured: { value: f.outsideOwnLease, unit: 'calls' }, budget: { text: '0', pass: f.outsideOwnLease === 0 } },
    { figure: 'devices not clean in verify --deep', measured: { value: f.unclean, unit: 'devices' }, budget: { text: `0 of ${f.verified}`, pass: f.unclean === 0 } },
  ];
  await recordRun(
    {
      name: 'failover',
      title: `Failover: 3 instances × ${f.settings.devices} devices, SIGKILL one, SIGSTOP another for ${f.settings.stopMs / 1000} s`,
      profile: 'full',
      command: 'ROLLCALL_RECORD_RESULTS=1 node scripts/test-reliability.mjs failover',
      machine: machineInfo(),
      durationSeconds: Math.round(f.suiteSeconds),
      rows,
      notes: [
        `Lease ${f.settings.leaseTtlMs / 1000} s renewed every ${f.settings.renewIntervalMs / 1000} s (the defaults); ${f.settings.users} users, a write every ${f.settings.writeEveryMs} ms throughout; PostgreSQL, the simulator and the three daemons on one machine.`,
        '"Served again": every device\'s cursor (moved only on the device\'s acknowledgement, by its lease holder) at a write committed just after the signal.',
        'Sync latency: per write and device, from the commit until the device\'s cursor reached it (polled every 50 ms); "during" is the writes from 2 s before the SIGKILL until the shares are even again after the SIGCONT. The daemons\' rollcall_sync_latency_seconds (read at the phase edges, p99 interpolated in its bucket as histogram_quantile does) counts what feed batches deliver and what a check that moves a cursor acknowledges (the first check of a device taken over), each as of its acknowledgement.',
        `Caller log: ${f.calls} device calls, ${f.handedOver} devices handed over; each call named its instance (x-rollcall-instance) and was checked against the lease history kept by a trigger.`,
      ],
      details: f,
    },
    { benchDir: benchSourceDir },
  );
}
