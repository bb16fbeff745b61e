/**
 * What a figure was measured on. Every result carries it, because a rate means little
 * without the machine, the Node version and the day it was taken.
 */
import { cpus, loadavg, release, totalmem, type as osType } from 'node:os';

export interface MachineInfo {
  /** Logical CPUs the process can see. */
  cpus: number;
  cpuModel: string;
  totalMemoryBytes: number;
  os: string;
  node: string;
  /** ISO 8601, UTC. */
  date: string;
  /** 1-minute load average when the run started: how busy the shared machine was. */
  loadAverage?: number;
}

export function machineInfo(now: Date = new Date()): MachineInfo {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    totalMemoryBytes: totalmem(),
    os: `${osType()} ${release()}`,
    node: process.version,
    date: now.toISOString(),
    loadAverage: loadavg()[0] ?? 0,
  };
}

/** One line for a report header: "2 × Intel Xeon …, 23.5 GiB, Linux 6.1, Node v20.19.0". */
export function describeMachine(machine: MachineInfo): string {
  const gib = (machine.totalMemoryBytes / 2 ** 30).toFixed(1);
  const load = machine.loadAverage === undefined ? '' : `, load ${machine.loadAverage.toFixed(1)} at start`;
  return `${machine.cpus} × ${machine.cpuModel}, ${gib} GiB, ${machine.os}, Node ${machine.node}${load}`;
}
