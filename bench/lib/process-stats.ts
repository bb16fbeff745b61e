/**
 * CPU time and memory of a process, from the kernel's own accounts: the measuring process
 * through process.resourceUsage(), another process (the daemon, the simulator) through
 * /proc/<pid>/stat and /proc/<pid>/status. Reading /proc costs the measured process
 * nothing, so sampling it does not disturb what is measured.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Peak resident set of this process so far, bytes (getrusage ru_maxrss is in KiB on Linux). */
export function ownPeakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** CPU seconds (user + system) this process has used so far. */
export function ownCpuSeconds(): number {
  const usage = process.resourceUsage();
  return (usage.userCPUTime + usage.systemCPUTime) / 1e6;
}

export interface ProcStat {
  /** User-mode CPU, clock ticks. */
  utime: number;
  /** Kernel-mode CPU, clock ticks. */
  stime: number;
  /** Resident set, pages. */
  rssPages: number;
}

/**
 * Parses the text of /proc/<pid>/stat. The command name (field 2) is in parentheses and may
 * itself hold spaces and parentheses, so fields are counted from the last ')'.
 */
export function parseProcStat(text: string): ProcStat {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error(`not a /proc/<pid>/stat line: ${JSON.stringify(text.slice(0, 80))}`);
  // After ')' come fields 3.. (state is field 3): utime is field 14, stime 15, rss 24.
  const fields = text.slice(close + 2).trim().split(/\s+/);
  const field = (n: number): number => {
    const value = Number(fields[n - 3]);
    if (!Number.isFinite(value)) throw new Error(`/proc/<pid>/stat field ${n} is not a number`);
    return value;
  };
  return { utime: field(14), stime: field(15), rssPages: field(24) };
}

/** Peak resident set (VmHWM) from the text of /proc/<pid>/status, bytes. */
export function parseVmHwm(text: string): number {
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(text);
  if (!match) throw new Error('no VmHWM line in /proc/<pid>/status');
  return Number(match[1]) * 1024;
}

export interface KernelUnits {
  ticksPerSecond: number;
  pageBytes: number;
}

/** Clock ticks per second and the page size, asked of getconf once (100 and 4096 almost everywhere). */
export function kernelUnits(): KernelUnits {
  const ask = (name: string, fallback: number): number => {
    try {
      const value = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim());
      return Number.isFinite(value) && value > 0 ? value : fallback;
    } catch {
      return fallback;
    }
  };
  return { ticksPerSecond: ask('CLK_TCK', 100), pageBytes: ask('PAGESIZE', 4096) };
}

export function readProcStat(pid: number): ProcStat {
  return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

export function readPeakRss(pid: number): number {
  return parseVmHwm(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

export interface UsageWindow {
  /** Wall time of the window, seconds. */
  seconds: number;
  /** CPU seconds used in the window (user + system). */
  cpuSeconds: number;
  /** cpuSeconds / seconds: 1.0 is one core fully busy. */
  coreShare: number;
  /** Resident set at each sample, bytes. */
  rssSamples: number[];
}

/** CPU share and RSS over a window, from /proc/<pid>/stat samples taken at its start, during it and at its end. */
export function usageBetween(samples: readonly { at: number; stat: ProcStat }[], units: KernelUnits): UsageWindow {
  if (samples.length < 2) throw new RangeError('a usage window needs at least two samples');
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const seconds = (last.at - first.at) / 1000;
  const ticks = last.stat.utime + last.stat.stime - (first.stat.utime + first.stat.stime);
  const cpuSeconds = ticks / units.ticksPerSecond;
  return {
    seconds,
    cpuSeconds,
    coreShare: seconds > 0 ? cpuSeconds / seconds : 0,
    rssSamples: samples.map((s) => s.stat.rssPages * units.pageBytes),
  };
}
