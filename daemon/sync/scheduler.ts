/**
 * The scheduler: one loop that decides what runs. It wakes on a new seq, on `wake()` (a
 * device's state changed, an operator asked), or at the next retry or check time, and
 * starts tasks up to `sync.concurrency`: checks first (a device due for a check is not fed
 * until it was checked), then feed batches, devices at the same cursor and target together.
 *
 * A task holds its devices (busy) until it ends, or until it hands one back (`Release`) once
 * nothing it does still concerns that device. `runExclusive` runs work outside the loop
 * (an operator's verify, a push of one user) once its devices are free, holding them
 * meanwhile; a device freed while such work waits is handed to it before the loop can take
 * it. `stop()` waits for every task, those of `runExclusive` included.
 */
import type { DeviceState, CheckDepth } from './device-state.js';
import type { Fleet } from './fleet.js';
import type { ExpectedSets } from './expected-sets.js';
import type { Release } from './batch-sender.js';
import type { ImportHold } from './import-hold.js';
import { Wakeup } from './wakeup.js';
import { errorText, type SyncContext } from './context.js';

const PRUNE_EVERY_MS = 3_600_000;
const MAX_SLEEP_MS = 60_000;
const DAY_MS = 86_400_000;

/** The work the scheduler starts. */
export interface SyncWork {
  check(device: DeviceState, depth: CheckDepth, repair: boolean): Promise<unknown>;
  feed(group: DeviceState[], release: Release): Promise<void>;
}

export interface SchedulerOptions {
  ctx: SyncContext;
  fleet: Fleet;
  expected: ExpectedSets;
  work: SyncWork;
  wakeup: Wakeup;
  /** Feed batches wait while an import commits (import-hold.ts). */
  hold?: ImportHold;
}

export class Scheduler {
  readonly #o: SchedulerOptions;
  readonly #tasks = new Set<Promise<void>>();
  readonly #exclusive = new Set<Promise<void>>();
  /** Work of runExclusive waiting for a device, in arrival order. */
  readonly #waiting = new Map<DeviceState, (() => void)[]>();
  #loop: Promise<void> | undefined;
  #nextCheck = Number.POSITIVE_INFINITY;
  #nextDeepCheck = Number.POSITIVE_INFINITY;
  #nextPrune = 0;

  constructor(options: SchedulerOptions) {
    this.#o = options;
  }

  start(): void {
    const { config } = this.#o.ctx;
    const now = this.#o.ctx.now();
    this.#nextCheck = config.reconcile.intervalMs > 0 ? now + config.reconcile.intervalMs : Number.POSITIVE_INFINITY;
    this.#nextDeepCheck = config.reconcile.deepIntervalMs > 0 ? now + config.reconcile.deepIntervalMs : Number.POSITIVE_INFINITY;
    this.#loop = this.#run();
  }

  /** Waits for the loop (the engine's signal has fired) and every task in flight. */
  async stop(): Promise<void> {
    this.#o.wakeup.wake();
    await this.#loop;
    // Tasks in flight finish their call (each has a deadline) and commit what was acknowledged.
    await Promise.allSettled([...this.#tasks, ...this.#exclusive]);
  }

  wake(): void {
    this.#o.wakeup.wake();
  }

  /** Runs `work` once `devices` are free, holding them until it ends; `stop()` waits for it. */
  runExclusive<T>(devices: readonly DeviceState[], work: () => Promise<T>): Promise<T> {
    const run = (async () => {
      const held: DeviceState[] = [];
      try {
        // In ID order, so two such runs never wait for each other's devices.
        for (const device of [...devices].sort((a, b) => a.id - b.id)) {
          await this.#acquire(device);
          held.push(device);
        }
        return await work();
      } finally {
        for (const device of held) this.#free(device);
      }
    })();
    const tracked = run.then(
      () => undefined,
      () => undefined,
    );
    this.#exclusive.add(tracked);
    void tracked.finally(() => this.#exclusive.delete(tracked));
    return run;
  }

  #acquire(device: DeviceState): Promise<void> {
    if (!device.busy) {
      device.busy = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const queue = this.#waiting.get(device);
      if (queue) queue.push(resolve);
      else this.#waiting.set(device, [resolve]);
    });
  }

  /** Frees a held device: to the first work waiting for it, or to the loop. */
  #free(device: DeviceState): void {
    const next = this.#waiting.get(device)?.shift();
    if (next) next();
    else {
      this.#waiting.delete(device);
      device.busy = false;
    }
    this.#o.wakeup.wake();
  }

  async #run(): Promise<void> {
    const { store, signal, logger } = this.#o.ctx;
    let watched = -1;
    let seqWaiter: Promise<unknown> | undefined;
    while (!signal.aborted) {
      const scheduledAt = this.#o.ctx.now();
      try {
        this.#schedule(scheduledAt);
      } catch (error) {
        logger.error({ err: error }, `sync scheduler: ${errorText(error)}`);
      }
      // Sleep until a new seq, a wake-up, or the next retry or check time.
      const head = store.currentSeq();
      if (head !== watched || !seqWaiter) {
        watched = head;
        seqWaiter = store.waitForSeq(head, signal).then(
          () => this.#o.wakeup.wake(),
          () => undefined,
        );
      }
      await this.#o.wakeup.wait(this.#sleepMs(scheduledAt), signal);
    }
  }

  /**
   * How long the loop may sleep: until the next check time or the earliest retry that was
   * not due when the scheduler last looked (`scheduledAt`). Measured from that same look: a
   * retry falling due between the look and now must not wait for the next wake-up.
   */
  #sleepMs(scheduledAt: number): number {
    let until = Math.min(this.#nextCheck, this.#nextDeepCheck);
    const held = this.#o.hold?.until(scheduledAt) ?? 0;
    if (held > 0) until = Math.min(until, held);
    for (const device of this.#o.fleet.devices) {
      if (device.retryAt > scheduledAt) until = Math.min(until, device.retryAt);
    }
    return Math.max(5, Math.min(MAX_SLEEP_MS, until - this.#o.ctx.now()));
  }

  #schedule(now: number): void {
    const { ctx, fleet, work } = this.#o;
    const devices = fleet.devices;
    if (now >= this.#nextCheck) {
      for (const d of devices) d.due('headers');
      this.#nextCheck = now + ctx.config.reconcile.intervalMs;
    }
    if (now >= this.#nextDeepCheck) {
      for (const d of devices) d.due('deep');
      this.#nextDeepCheck = now + ctx.config.reconcile.deepIntervalMs;
    }
    this.#o.expected.dropIdle(now);
    if (now >= this.#nextPrune) this.#prune(now);
    fleet.gaugePending();

    const free = (): boolean => this.#tasks.size < ctx.config.concurrency;
    for (const device of devices) {
      if (!free()) return;
      if (device.checkDue && device.ready(now)) {
        const depth = device.checkDue;
        device.checkDue = undefined;
        // Manual mode (BioStar "Not Used"): checks report, repairs wait for an operator.
        this.#launch([device], () => work.check(device, depth, ctx.mode.autoPush).then(() => undefined));
      }
    }
    // An import under way has precedence: its changes go out in full batches once it is done.
    if ((this.#o.hold?.until(now) ?? 0) > 0) return;
    // Feed: devices behind their target, grouped by cursor (and target: in manual mode an
    // operator may have let different devices go to different seqs).
    const byCursor = new Map<string, DeviceState[]>();
    for (const device of devices) {
      if (!device.ready(now) || device.checkDue) continue;
      const target = fleet.target(device);
      if (device.cursor >= target) continue;
      if (device.alone || device.aloneUntil > now || device.batchCap !== undefined) {
        if (!free()) return;
        this.#launch([device], (release) => work.feed([device], release));
        continue;
      }
      const key = `${device.cursor}:${target}`;
      const group = byCursor.get(key);
      if (group) group.push(device);
      else byCursor.set(key, [device]);
    }
    for (const group of byCursor.values()) {
      if (!free()) return;
      this.#launch(group, (release) => work.feed(group, release));
    }
  }

  #prune(now: number): void {
    const { store, config, logger } = this.#o.ctx;
    this.#nextPrune = now + PRUNE_EVERY_MS;
    const days = config.tombstoneRetentionDays;
    store.pruneTombstones(now - days * DAY_MS).then(
      (n) => n > 0 && logger.info({ pruned: n }, `pruned ${n} deletes older than ${days} days from the change feed`),
      (error: unknown) => logger.warn({ err: error }, `pruning the change feed failed: ${errorText(error)}`),
    );
  }

  /**
   * Runs `work` as a task that holds `devices` (busy) until it ends. `work` may hand a device
   * back earlier with `release`, once nothing it does still concerns that device: a group's
   * healthy devices go on while the task still waits for a hung one.
   */
  #launch(devices: DeviceState[], work: (release: Release) => Promise<void>): void {
    const held = new Set(devices);
    for (const d of held) d.busy = true;
    const release: Release = (device) => {
      if (held.delete(device)) this.#free(device);
    };
    const task = work(release)
      .catch((error: unknown) => this.#o.ctx.logger.error({ err: error, devices: devices.map((d) => d.id) }, `sync task failed: ${errorText(error)}`))
      .finally(() => {
        for (const d of held) this.#free(d);
        held.clear();
        this.#tasks.delete(task);
        this.#o.wakeup.wake();
      });
    this.#tasks.add(task);
  }
}
