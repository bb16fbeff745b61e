/**
 * The one write path to devices: every push (a feed batch, a check's repair, an operator's
 * push of one user, a device-side change undone) goes through here, with the same calls,
 * soft deadlines, failure handling, events and counters.
 *
 * Feeding: devices at the same cursor are read together (one page of the change feed, cut to
 * a batch by count and bytes; the next page is read while this one is at the devices,
 * feed-pages.ts), each gets its plan from the sync mode (one plan for devices placed alike),
 * and devices with the same plan share one EnrollMulti/DeleteMulti call (shared-call.ts). A cursor moves only
 * after the device acknowledged, in the same commit as the bookkeeping that goes with it. A
 * batch a device refuses for its content, or fails with a code that says nothing about the
 * device (INTERNAL, UNKNOWN, ...), is split in halves to find the users at fault
 * (user-split.ts): those are remembered as refused, the rest go through. A batch that timed
 * out is sent again in halves. Any other failure, and a single user that still times out,
 * backs the device off (device-health.ts).
 *
 * About 400 lines, one file: sending, the handling of a device's failure and the
 * acknowledgement are one path that calls back into itself (a cut call's parts, a split's
 * halves), and read best together; what stands alone is out (planner.ts, feed-pages.ts,
 * shared-call.ts, user-split.ts, device-health.ts).
 */
import type { Change, DeviceFailure, Mutation, MultiOutcome, NewEvent } from '../plugins/api.js';
import type { User } from '../model/user.js';
import type { DeviceRecord, RejectedUser } from '../model/device.js';
import { deviceProjectionHash } from '../model/projection.js';
import { cutBatch, groupByPlan, planDevice, planDevices, type DevicePlan, type FeedItem } from './planner.js';
import { PlacementFacts } from './placement.js';
import { FeedPages } from './feed-pages.js';
import type { DeviceState } from './device-state.js';
import type { Fleet } from './fleet.js';
import type { ChangeFeed } from './change-feed.js';
import type { RemovalGuard } from './removal-guard.js';
import { Cut, cutParts, PartsRelease, type SharedCall } from './shared-call.js';
import { callFailure, DeviceRefusal, type AloneTiming, type DeviceHealth } from './device-health.js';
import { halves, sendSplitting, splitFor, type Refusal } from './user-split.js';
import { deviceFailureEvent, failureText, refusedEvents, ruleSkipEvents } from './sync-events.js';
import { errorText, type SyncContext } from './context.js';
import { observeSince } from '../obs/observe-many.js';

/** Hands a device of a task back before the task ends (see Scheduler.launch). */
export type Release = (device: DeviceState) => void;

/** Which call of a plan a device failed: its enroll, or (after the enroll went through) its delete. */
type Phase = 'enroll' | 'remove';

/** Users a device refused, with the hash of the version refused and why. */
export type Refused = Record<string, RejectedUser>;

interface Planned {
  device: DeviceState;
  plan: DevicePlan;
}

interface Ack {
  device: DeviceState;
  upToSeq: number;
  changes: readonly Change[];
  events: NewEvent[];
  change?: (record: DeviceRecord) => DeviceRecord;
}

/** What a push made outside the feed reports back, by device. */
interface PushReport {
  failed: Map<number, string>;
  /** Devices of a shared call that failed as a whole (nothing said which was at fault). */
  wholeCallFailed: Set<number>;
}

export interface BatchSenderOptions {
  ctx: SyncContext;
  fleet: Fleet;
  feed: ChangeFeed;
  guard: RemovalGuard;
  health: DeviceHealth;
  calls: SharedCall;
}

const keep: Release = () => undefined;

export class BatchSender {
  readonly #ctx: SyncContext;
  readonly #fleet: Fleet;
  readonly #feed: ChangeFeed;
  readonly #guard: RemovalGuard;
  readonly #health: DeviceHealth;
  readonly #calls: SharedCall;
  readonly #pages: FeedPages;

  constructor(options: BatchSenderOptions) {
    this.#ctx = options.ctx;
    this.#fleet = options.fleet;
    this.#feed = options.feed;
    this.#guard = options.guard;
    this.#health = options.health;
    this.#calls = options.calls;
    this.#pages = new FeedPages({ feed: options.feed, sizeOf: (user) => options.ctx.transport.encodedSize(user) });
  }

  /** Sends `group` (devices at one cursor) their next batch of the feed. */
  async feed(group: DeviceState[], release: Release): Promise<void> {
    const { config, transport, mode } = this.#ctx;
    const cursor = group[0]!.cursor;
    if (await this.#needsFullCheck(group)) return;
    await Promise.all(group.map((d) => this.#fleet.loadProfile(d)));
    const upTo = this.#fleet.target(group[0]!);
    // A device that said it is full is offered one user at a time until one goes in, not a
    // whole batch to refuse again (it is served alone: see DeviceState.full).
    // One whose batches timed out is fed alone, at most its batch cap at a time (DeviceState.batchCap).
    const limit = group.length === 1 && group[0]!.full ? 1 : Math.min(config.batch.maxUsers, group.length === 1 ? (group[0]!.batchCap ?? Infinity) : Infinity);
    const all = await this.#pages.read(cursor, limit, upTo);
    if (all.length === 0) {
      // Nothing pending up to the target (coalesced away): the cursor catches up.
      await this.#acknowledge(group.map((d) => ({ device: d, upToSeq: upTo, changes: [], events: [] })));
      return;
    }
    const items = all.slice(0, cutBatch(all, config.batch, (u) => transport.encodedSize(u)));
    const plans = planDevices(items, group.map((device) => ({ record: device.record, rules: this.#fleet.rules(device) })), mode, config.deviceDeletes);
    const go: Planned[] = [];
    for (const [i, device] of group.entries()) {
      const plan = plans[i]!;
      if (plan.remove.length > 0 && (await this.#guard.holdsBack(device, plan))) continue;
      go.push({ device, plan });
    }
    const changes = items.map((i) => i.change);
    const sending = Promise.all(groupByPlan(go).map((same) => this.#send(same, changes, release)));
    // While the devices work on this batch, the next one is read: the devices that take this
    // batch will be at its last seq.
    const next = items.reduce((seq, i) => Math.max(seq, i.change.seq), cursor);
    if (go.length > 0) this.#pages.readAhead(next, limit, upTo, config.batch);
    await sending;
  }

  /**
   * Pushes `user` (or its absence) now to `devices`, each as its plan says, outside the feed:
   * no cursor moves. Returns the devices that did not take it, with why.
   */
  async pushNow(devices: readonly DeviceState[], userId: string, user: User | undefined): Promise<{ planned: Planned[]; failed: Map<number, string> }> {
    const { config, mode } = this.#ctx;
    const item: FeedItem = { change: { seq: 0, userId, op: user ? 'upsert' : 'delete', at: this.#ctx.now(), origin: { kind: 'server' } }, user };
    const facts = new PlacementFacts();
    const planned = devices.map((device) => ({ device, plan: planDevice([item], device.record, mode, this.#fleet.rules(device), config.deviceDeletes, facts) }));
    const report: PushReport = { failed: new Map(), wholeCallFailed: new Set() };
    const due = planned.filter((p) => p.plan.enroll.length + p.plan.remove.length > 0);
    await Promise.all(groupByPlan(due).map((same) => this.#send(same, [], keep, report)));
    // A shared call that failed as a whole: each of its devices once more, alone.
    const again = due.filter((p) => report.wholeCallFailed.has(p.device.id));
    await Promise.all(again.map((p) => this.#send([p], [], keep, report)));
    return { planned: due, failed: report.failed };
  }

  /**
   * Enrolls `users` on one device (a check's repair, or a batch the device did not take). A
   * batch refused for its content, or failed with a code that says nothing about the device,
   * is split in halves until the users at fault stand alone; they are returned (with the hash
   * of the refused version) and the rest are enrolled. A batch that timed out is sent again
   * in halves. `failure` is the batch's failure when it was sent already. Any other failure,
   * and a single user that still times out, throws a DeviceRefusal (user-split.ts).
   */
  async enrollApart(device: DeviceState, users: readonly User[], failure?: DeviceFailure): Promise<Refused> {
    // A timeout caps the device's later batches at the largest part that went through.
    let timedOut = failure?.reason === 'timeout';
    let largestThrough = 0;
    /** Why the whole batch failed, when it did for a reason the split handles. */
    let whole = failure;
    const send = async (part: readonly User[]): Promise<DeviceFailure | undefined> => {
      const failed = await this.#enrollAlone(device, part);
      if (failed?.reason === 'timeout') timedOut = true;
      if (!failed) largestThrough = Math.max(largestThrough, part.length);
      if (whole === undefined && part.length === users.length) whole = failed;
      return failed;
    };
    let refusals: Refusal<User>[];
    try {
      refusals = await sendSplitting(device.id, users, send, failure);
    } finally {
      if (timedOut) this.#capBatches(device, users.length, largestThrough);
      if (whole && users.length > 1 && splitFor(whole)) this.#ctx.metrics.splitBatches.inc({ why: whole.reason === 'timeout' ? 'timeout' : 'user' });
    }
    if (!timedOut) device.batchWent(users.length, this.#ctx.config.batch.maxUsers);
    if (refusals.length > 0) {
      this.#ctx.logger.warn({ device: device.id, users: users.length, refused: refusals.map((r) => r.item.id) }, `device ${device.id} refused ${refusals.length} of ${users.length} users; the others went through`);
    }
    const refused: Refused = {};
    for (const { item, failure: why } of refusals) {
      refused[item.id] = { hash: deviceProjectionHash(item), reason: failureText(why), ...(why.reason === 'unknown' ? { unknown: true as const } : {}) };
    }
    return refused;
  }

  /**
   * Deletes `ids` from one device (a check's repair); a user already absent counts as deleted.
   * A delete that timed out is sent again in halves; any other failure, and a single ID that
   * still times out, throws a DeviceRefusal. `failed`: the failure of `ids` when sent already.
   */
  async removeFrom(device: DeviceState, ids: readonly string[], failed?: DeviceFailure): Promise<void> {
    const failure = failed ?? (await this.#removeAlone(device, ids));
    if (!failure) return;
    if (splitFor(failure) !== 'smaller' || ids.length === 1) throw new DeviceRefusal(device.id, failure);
    for (const half of halves(ids)) await this.removeFrom(device, half);
  }

  /** One EnrollMulti to one device; a whole-call failure the split handles comes back as its failure. */
  async #enrollAlone(device: DeviceState, users: readonly User[]): Promise<DeviceFailure | undefined> {
    let outcome: MultiOutcome;
    try {
      outcome = await this.#ctx.transport.enrollUsers([device.id], users, { signal: this.#ctx.signal });
    } catch (error) {
      const failure = callFailure(error);
      if (failure && splitFor(failure) !== undefined && !this.#ctx.signal.aborted) return failure;
      throw error;
    }
    this.#countOps('enroll', users.length, outcome);
    return outcome.failed.get(device.id);
  }

  /** One DeleteMulti to one device; a whole-call timeout comes back as its failure. */
  async #removeAlone(device: DeviceState, ids: readonly string[]): Promise<DeviceFailure | undefined> {
    let outcome: MultiOutcome;
    try {
      outcome = await this.#ctx.transport.deleteUsers([device.id], ids, { signal: this.#ctx.signal });
    } catch (error) {
      const failure = callFailure(error);
      if (failure && splitFor(failure) === 'smaller' && !this.#ctx.signal.aborted) return failure;
      throw error;
    }
    absentIsDeleted(outcome);
    this.#countOps('delete', ids.length, outcome);
    return outcome.failed.get(device.id);
  }

  #capBatches(device: DeviceState, tried: number, largestThrough: number): void {
    const before = device.batchCap;
    device.capBatches(largestThrough);
    if (device.batchCap !== before) {
      this.#ctx.logger.info(
        { device: device.id, timedOutAt: tried, batchCap: device.batchCap },
        `device ${device.id}: a batch of ${tried} users timed out; it gets at most ${device.batchCap} at a time for now`,
      );
    }
  }

  /** A device whose cursor fell behind the feed horizon may have missed pruned deletes: it gets a check first. */
  async #needsFullCheck(group: DeviceState[]): Promise<boolean> {
    let behind = false;
    for (const d of group) {
      if (d.cursor <= 0 || (await this.#feed.reachesBack(d.cursor))) continue;
      this.#ctx.logger.info({ device: d.id, cursor: d.cursor }, `device ${d.id} was away longer than the feed keeps deletes: full check`);
      d.due('headers');
      behind = true;
    }
    return behind;
  }

  /**
   * Sends one plan to every device of `same` (their plans are identical), books the outcome,
   * and releases each device once its outcome is booked. Cut at its soft deadline, the same
   * plan goes again at once (an enroll overwrites, a delete of an absent user counts as done)
   * in smaller calls, each released when it is done; a part cut again is split again, down to
   * single devices, so the device at fault ends alone.
   */
  async #send(same: Planned[], changes: readonly Change[], release: Release, report?: PushReport, timed?: AloneTiming): Promise<void> {
    try {
      const cut = await this.#sendShared(same, changes, report, timed);
      if (cut) {
        // The parts go back together, their timings judged against each other (device-health.ts).
        const parts = cutParts(same);
        const timings = this.#health.together();
        const together = new PartsRelease<DeviceState>(parts.length, release, cut.afterMs, timings.judge);
        await Promise.all(parts.map((part) => this.#send(part, changes, together.release, report, timings.timed).finally(() => together.partEnded())));
      }
    } finally {
      for (const entry of same) release(entry.device);
    }
  }

  /** One shared send of `same`'s plan; returns the Cut when it was cut at its soft deadline (nothing booked). */
  async #sendShared(same: Planned[], changes: readonly Change[], report?: PushReport, timed?: AloneTiming): Promise<Cut | undefined> {
    const { transport } = this.#ctx;
    const plan = same[0]!.plan;
    const devices = same.map((e) => e.device);
    const ids = devices.map((d) => d.id);
    let outcome: MultiOutcome = { ok: ids, failed: new Map() };
    /** Which call a device's failure came from: a device that failed the enroll got no delete. */
    let phase: Phase = 'enroll';
    const enrollFailed = new Set<number>();
    const started = performance.now();
    try {
      if (plan.enroll.length > 0) {
        const enrolled = await this.#calls.run('EnrollMulti', ids, plan.enroll.length, (signal) => transport.enrollUsers(ids, plan.enroll, { signal }));
        if (enrolled instanceof Cut) return enrolled;
        outcome = enrolled;
        for (const id of enrolled.failed.keys()) enrollFailed.add(id);
        this.#countOps('enroll', plan.enroll.length, outcome);
      }
      if (plan.remove.length > 0 && outcome.ok.length > 0) {
        const from = outcome.ok;
        phase = 'remove';
        const removed = await this.#calls.run('DeleteMulti', from, plan.remove.length, (signal) => transport.deleteUsers(from, plan.remove, { signal }));
        if (removed instanceof Cut) return removed;
        absentIsDeleted(removed);
        this.#countOps('delete', plan.remove.length, removed);
        outcome = { ok: removed.ok, failed: new Map([...outcome.failed, ...removed.failed]) };
      }
    } catch (error) {
      // The call failed as a whole: nothing says which device is to blame.
      if (devices.length > 1) for (const id of ids) report?.wholeCallFailed.add(id);
      else report?.failed.set(ids[0]!, errorText(error));
      // One device alone, and a failure a split can handle (a user at fault, a timeout): as
      // if the device had answered it. Anything else backs the device off.
      const failure = devices.length === 1 && !this.#ctx.signal.aborted ? callFailure(error) : undefined;
      if (failure && splitFor(failure) !== undefined) await this.#deviceFailed(same[0]!.device, same[0]!.plan, failure, changes, phase);
      else await this.#health.callFailed(devices, error);
      return undefined;
    }
    if (devices.length === 1) {
      const ms = performance.now() - started;
      const users = plan.enroll.length + plan.remove.length;
      if (timed) timed(devices[0]!, ms, users);
      else this.#health.timedAlone(devices[0]!, ms, users);
      if (outcome.ok.length === 1 && plan.enroll.length > 0) devices[0]!.batchWent(plan.enroll.length, this.#ctx.config.batch.maxUsers);
    }
    const acked = same.filter((e) => outcome.ok.includes(e.device.id));
    await this.#acknowledge(acked.map((e) => ({ device: e.device, upToSeq: plan.upToSeq, changes, events: ruleSkipEvents(e.device.id, plan.skipped) })));
    if (plan.enroll.length + plan.remove.length > 0) await this.#fleet.countUsers(acked.map((e) => e.device));
    for (const entry of same) {
      const failure = outcome.failed.get(entry.device.id);
      if (!failure) continue;
      report?.failed.set(entry.device.id, failureText(failure));
      await this.#deviceFailed(entry.device, entry.plan, failure, changes, enrollFailed.has(entry.device.id) ? 'enroll' : 'remove');
    }
    return undefined;
  }

  /**
   * One device did not take the batch (its `phase` call failed). An enroll refused for its
   * content or failed with a code that says nothing about the device is split to find the
   * users at fault: those are remembered, the rest go through. An enroll or delete that timed
   * out is sent again in halves. Anything else backs the device off, and so does a split that
   * ends on the device's trouble (a single user that still times out, the device gone).
   */
  async #deviceFailed(device: DeviceState, plan: DevicePlan, failure: DeviceFailure, changes: readonly Change[], phase: Phase): Promise<void> {
    await this.#ctx.store.commit([{ type: 'appendEvent', event: deviceFailureEvent(device.id, failure, plan.enroll.length) }]).catch(() => undefined);
    if (failure.reason === 'full') device.full = true;
    const how = splitFor(failure);
    const splitEnroll = phase === 'enroll' && plan.enroll.length > 0 && how !== undefined;
    const splitRemove = phase === 'remove' && plan.remove.length > 0 && how === 'smaller';
    if (!splitEnroll && !splitRemove) {
      await this.#health.failed(device, failureText(failure));
      return;
    }
    let refused: Refused = {};
    try {
      if (splitEnroll) refused = await this.enrollApart(device, plan.enroll, failure);
      if (plan.remove.length > 0) await this.removeFrom(device, plan.remove, splitRemove ? failure : undefined);
    } catch (error) {
      await this.#health.failed(device, errorText(error));
      return;
    }
    await this.#acknowledge([
      {
        device,
        upToSeq: plan.upToSeq,
        changes,
        events: [...refusedEvents(device.id, refused), ...ruleSkipEvents(device.id, plan.skipped)],
        change: (r) => ({ ...r, rejectedUsers: { ...r.rejectedUsers, ...refused } }),
      },
    ]);
    await this.#fleet.countUsers([device]);
  }

  /** Moves cursors of devices that acknowledged, with their bookkeeping, in one commit. */
  async #acknowledge(acks: Ack[]): Promise<void> {
    if (acks.length === 0) return;
    const { store, metrics, fanout, mode } = this.#ctx;
    const mutations: Mutation[] = [];
    for (const ack of acks) {
      if (ack.upToSeq > ack.device.cursor) mutations.push({ type: 'setCursor', deviceId: ack.device.id, seq: ack.upToSeq });
      if (ack.change) mutations.push({ type: 'putDevice', device: ack.device.update(ack.change) });
      for (const event of ack.events) mutations.push({ type: 'appendEvent', event });
    }
    if (mutations.length > 0) await this.#ctx.leases.commit(acks.map((ack) => ack.device.id), mutations);
    const now = this.#ctx.now();
    for (const ack of acks) {
      const device = ack.device;
      if (ack.upToSeq > device.cursor) device.cursor = ack.upToSeq;
      if (!mode.autoPush) device.allowedUpTo = Math.max(device.allowedUpTo, device.cursor);
      this.#health.recovered(device);
      fanout.acknowledged(device.id, device.cursor);
      if (device.cursor < store.currentSeq()) this.#fleet.setInSync(device, false);
      else if (device.record.lastCheck?.inSync) this.#fleet.setInSync(device, true);
    }
    // One latency per change and device, as of now; observed once the devices are handed back
    // and their next batch is on its way: a batch of 500 to 10 devices is 5,000 observations,
    // of as many values as the batch has commit times (observeMany).
    setImmediate(() => {
      observeSince(metrics.latency, now, acks.flatMap((ack) => ack.changes.map((change) => change.at)));
    });
  }

  #countOps(op: 'enroll' | 'delete', users: number, outcome: MultiOutcome): void {
    const { ops } = this.#ctx.metrics;
    if (outcome.ok.length > 0) ops.inc({ op, result: 'ok' }, users * outcome.ok.length);
    if (outcome.failed.size > 0) ops.inc({ op, result: 'failed' }, users * outcome.failed.size);
  }
}

/** A user that is not on the device is as good as deleted. */
function absentIsDeleted(outcome: MultiOutcome): void {
  for (const [id, failure] of outcome.failed) {
    if (failure.reason !== 'absent') continue;
    outcome.failed.delete(id);
    outcome.ok.push(id);
  }
}
