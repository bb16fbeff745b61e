/**
 * Which client called each device, and when: for every device, the runs of consecutive calls
 * made by one caller (its first and last arrival and how many). A test of several rollcall
 * instances reads it (Control.ReadCallers) to prove that no device was called by two of them
 * in one lease period. A run is added only when the caller changes, so the log of a device
 * grows with the changes of hands, not with the calls; past `maxRuns` the oldest runs go and
 * are counted.
 */
export interface CallerRun {
  caller: string;
  /** Unix ms of the first and the last call of the run, on arrival. */
  firstAtMs: number;
  lastAtMs: number;
  calls: number;
}

const MAX_RUNS_DEFAULT = 10_000;

export class CallerLog {
  readonly #runs = new Map<number, CallerRun[]>();
  readonly #dropped = new Map<number, number>();
  readonly #maxRuns: number;

  constructor(maxRuns = MAX_RUNS_DEFAULT) {
    this.#maxRuns = maxRuns;
  }

  /** A call of `deviceId` by `caller` arrived at `atMs`. */
  record(deviceId: number, caller: string, atMs: number): void {
    let runs = this.#runs.get(deviceId);
    if (!runs) this.#runs.set(deviceId, (runs = []));
    const last = runs.at(-1);
    if (last?.caller === caller) {
      last.lastAtMs = Math.max(last.lastAtMs, atMs);
      last.calls += 1;
      return;
    }
    runs.push({ caller, firstAtMs: atMs, lastAtMs: atMs, calls: 1 });
    if (runs.length > this.#maxRuns) {
      runs.shift();
      this.#dropped.set(deviceId, (this.#dropped.get(deviceId) ?? 0) + 1);
    }
  }

  /** The runs of a device, oldest first (copies), and how many were left out. */
  of(deviceId: number): { runs: CallerRun[]; droppedRuns: number } {
    return { runs: (this.#runs.get(deviceId) ?? []).map((r) => ({ ...r })), droppedRuns: this.#dropped.get(deviceId) ?? 0 };
  }

  /** The devices called at least once, ascending. */
  deviceIds(): number[] {
    return [...this.#runs.keys()].sort((a, b) => a - b);
  }
}
