/**
 * The gateway simulator in a process of its own (`rollcall sim --json`), so that the
 * devices' work does not run on the measured process's event loop. Its peak memory and
 * CPU are read from /proc before it is stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cliPath } from './paths.js';
import { readPeakRss, readProcStat, type ProcStat } from './process-stats.js';

export interface SimProcessOptions {
  devices: number;
  firstId?: number;
  /** V8 old-space limit of the simulator, MiB: 100 devices × 100k users need a few GiB. */
  heapMb?: number;
  /** Loopback port to listen on (a restart on the address of an earlier run); default a free one. */
  port?: number;
}

export interface SimProcess {
  readonly address: string;
  readonly deviceIds: number[];
  readonly pid: number;
  stat(): ProcStat;
  /** SIGTERM, then waits for the exit; returns the simulator's peak RSS, bytes. */
  stop(): Promise<{ peakRssBytes: number }>;
}

export async function startSimProcess(options: SimProcessOptions): Promise<SimProcess> {
  const args = [
    `--max-old-space-size=${options.heapMb ?? 4096}`,
    // For profiling the devices' side: e.g. BENCH_SIM_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
    ...(process.env.BENCH_SIM_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? []),
    cliPath,
    'sim',
    '--port',
    String(options.port ?? 0),
    '--devices',
    String(options.devices),
    '--first-id',
    String(options.firstId ?? 1001),
    '--json',
  ];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit');
  const first = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    const onData = (d: Buffer): void => {
      buffer += d.toString();
      const nl = buffer.indexOf('\n');
      if (nl >= 0) {
        child.stdout!.off('data', onData);
        resolve(buffer.slice(0, nl));
      }
    };
    child.stdout!.on('data', onData);
    void exited.then(() => reject(new Error(`the simulator exited before it listened: ${stderr}`)));
  });
  const started = JSON.parse(first) as { address: string; deviceIds: number[] };
  const pid = child.pid!;
  let stopping: Promise<{ peakRssBytes: number }> | undefined;
  return {
    address: started.address,
    deviceIds: started.deviceIds,
    pid,
    stat: () => readProcStat(pid),
    stop() {
      stopping ??= (async () => {
        let peakRssBytes = 0;
        try {
          peakRssBytes = readPeakRss(pid);
        } catch {
          // Already gone: nothing to read.
        }
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
        return { peakRssBytes };
      })();
      return stopping;
    },
  };
}
