/**
 * What happens at the devices (ARCHITECTURE §4, device-side events): the gateway's
 * status stream drives connection state; the realtime event stream, plus GetLog catch-up
 * from each device's persisted last event ID after any (re)connect, brings users enrolled
 * or edited at a device, which are read back, merged and committed with the device as
 * origin, then fanned out by the feed like any change. Events caused by our own pushes
 * (subCode 1) are acknowledgements, not changes. Deletes at a device never delete from
 * the database. What one event does is device-side-changes.ts; where reading a device's log
 * starts (first contact, a reset log) event-baseline.ts; the cursor itself event-cursor.ts.
 * Acknowledgements of our own pushes are coalesced (event-acks.ts).
 * Just over 400 lines: the two streams, the catch-up and the monitoring retries share the
 * per-device catch-up map, whose interleavings are the subtle part and read best together.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { DeviceEvent, DeviceStream } from '../plugins/api.js';
import { needsEventBaseline, type DeviceRecord, type EventBaselineReason } from '../model/device.js';
import type { Fleet } from './fleet.js';
import type { DeviceChanges } from './reconcile.js';
import { nextDelay } from './backoff.js';
import { errorText, type SyncContext } from './context.js';
import { checkAnchor, isLogResetEvent, newestEventId, resetEventName } from './event-baseline.js';
import { EventCursors } from './event-cursor.js';
import { DeviceSideChanges, isLocalChange, WATCHED_CODES, type UserRepairs } from './device-side-changes.js';
import { PendingAcks } from './event-acks.js';

export { USER_EVENT, isLocalChange, type UserRepairs } from './device-side-changes.js';

const CATCH_UP_PAGE = 16384;
/** New baselines one catch-up takes at most (each is a reset it found). */
const MAX_REBASES = 3;

export interface DeviceEventFollowerOptions {
  ctx: SyncContext;
  logger: Logger;
  /** The devices: their records (last event ID), connection state, checks. */
  fleet: Fleet;
  repairs: UserRepairs;
  queueSize?: number;
}

/** An operator's event start that the device's log cannot have (past its newest event). */
export class EventStartError extends Error {}

export class DeviceEventFollower implements DeviceChanges {
  readonly #o: DeviceEventFollowerOptions;
  readonly #controller = new AbortController();
  #statusLoop: Promise<void> | undefined;
  #eventLoop: Promise<void> | undefined;
  #status: DeviceStream<unknown> | undefined;
  #events: DeviceStream<DeviceEvent> | undefined;
  /** Events are handled one at a time, in arrival order, so two edits of one user never race. */
  #queue: Promise<void> = Promise.resolve();
  /** Devices whose catch-up is under way: their realtime events are left to it. */
  readonly #catchingUp = new Map<number, Promise<void>>();
  /** Devices whose catch-up must read once more before it ends. */
  readonly #again = new Set<number>();
  /**
   * Devices whose event could not be handled (the user could not be read back): their
   * later events are not taken until a catch-up reads again from the unhandled one (or it
   * is skipped after its tries, device-side-changes.ts).
   */
  readonly #stalled = new Map<number, NodeJS.Timeout>();
  readonly #cursors: EventCursors;
  readonly #changes: DeviceSideChanges;
  /** Per device, the highest event ID the realtime stream delivered (since it was opened). */
  readonly #lastSeen = new Map<number, number>();
  readonly #acks = new PendingAcks();
  /** Devices whose monitoring could not be turned on: failed tries so far, and the retry timer. */
  readonly #monitorRetry = new Map<number, { attempts: number; timer?: NodeJS.Timeout }>();
  /**
   * Devices whose monitoring is to be tried again by their next catch-up read, whichever
   * starts it: a retry that comes while a catch-up runs is taken by that one's next round
   * (or a new catch-up after it), never lost.
   */
  readonly #monitorDue = new Set<number>();

  constructor(options: DeviceEventFollowerOptions) {
    this.#o = options;
    this.#cursors = new EventCursors({ ctx: options.ctx, logger: options.logger, fleet: options.fleet });
    this.#changes = new DeviceSideChanges({
      ...options,
      cursors: this.#cursors,
      signal: this.#controller.signal,
      stalls: { stall: (deviceId, delayMs) => this.#stall(deviceId, delayMs), isStalled: (deviceId) => this.#stalled.has(deviceId) },
    });
    setMaxListeners(0, this.#controller.signal);
  }

  /**
   * Opens the streams and catches every connected device up. Devices seen for the first
   * time get their baseline before this resolves, so an edit made at one of them once the
   * engine runs is after it and read.
   */
  async start(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.#controller.abort(signal.reason), { once: true });
    this.#statusLoop = this.#followStatus();
    this.#eventLoop = this.#followEvents();
    const first: Promise<void>[] = [];
    for (const device of this.#o.fleet.devices) {
      if (!device.connected) continue;
      const running = this.catchUp(device.id);
      if (needsEventBaseline(device.record)) first.push(this.#baselined(device.id, running));
    }
    await Promise.all(first);
  }

  async stop(): Promise<void> {
    this.#controller.abort(new Error('stopping'));
    this.#status?.cancel();
    this.#events?.cancel();
    for (const retry of this.#monitorRetry.values()) clearTimeout(retry.timer);
    for (const timer of this.#stalled.values()) clearTimeout(timer);
    await Promise.allSettled([this.#statusLoop, this.#eventLoop, this.#queue, ...this.#catchingUp.values()]);
    await this.#cursors.flush();
  }

  /** Resolves once the device has a baseline, written to the store, or its catch-up ended without one. */
  async #baselined(deviceId: number, running: Promise<void>): Promise<void> {
    while (!this.#signal.aborted && needsEventBaseline(this.#o.fleet.device(deviceId)?.record ?? { lastEventId: 1 })) {
      const waited = await Promise.race([running.then(() => 'ended' as const), new Promise<'tick'>((r) => setTimeout(() => r('tick'), 20))]);
      if (waited === 'ended') return;
    }
    // The baseline's commit is queued work that has begun (the record changed): wait for it.
    await this.#queue;
  }

  get #signal(): AbortSignal {
    return this.#controller.signal;
  }

  async #pause(attempt: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, nextDelay(attempt, { baseMs: 500, maxMs: 30_000 }));
      this.#signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }

  /** Connection state from SubscribeStatus; the stream is opened again whenever it ends. */
  async #followStatus(): Promise<void> {
    let attempt = 0;
    while (!this.#signal.aborted) {
      const stream = this.#o.ctx.transport.subscribeStatus({ queueSize: 256 });
      this.#status = stream;
      try {
        // What changed while no stream was open.
        await this.#o.fleet.refreshConnections();
        for await (const change of stream) {
          attempt = 0;
          const was = this.#o.fleet.device(change.deviceId)?.connected ?? false;
          if (!this.#o.fleet.device(change.deviceId)) await this.#o.fleet.refreshConnections();
          this.#o.fleet.setConnected(change.deviceId, change.connected, change.state);
          if (change.connected && !was) {
            this.#unstall(change.deviceId);
            void this.catchUp(change.deviceId);
          }
        }
      } catch (error) {
        if (!this.#signal.aborted) this.#o.logger.warn({ err: error }, `device status stream ended: ${errorText(error)}`);
      }
      if (this.#signal.aborted) return;
      await this.#pause(attempt++);
    }
  }

  /** The realtime log; after it ends, every connected device catches up from GetLog. */
  /**
   * The realtime log, all event codes: per-device event IDs are consecutive, so a gap
   * shows that the gateway dropped events (its queue was full) and that device catches up
   * from GetLog. While a device catches up, its realtime events are left to the catch-up.
   */
  async #followEvents(): Promise<void> {
    let attempt = 0;
    while (!this.#signal.aborted) {
      const stream = this.#o.ctx.transport.subscribeEvents({ queueSize: this.#o.queueSize ?? 1024 });
      this.#events = stream;
      const lastSeen = this.#lastSeen;
      lastSeen.clear();
      try {
        if (attempt > 0) for (const device of this.#o.fleet.devices) if (device.connected) void this.catchUp(device.id);
        for await (const event of stream) {
          attempt = 0;
          const device = this.#o.fleet.device(event.deviceId);
          if (!device) continue;
          const streamed = lastSeen.get(event.deviceId);
          const last = streamed ?? device.record.lastEventId;
          lastSeen.set(event.deviceId, Math.max(last, event.id));
          // A reset event, or the stream going back (IDs of one device only increase), or a
          // first event below what was read: the log may have started again; the catch-up
          // sees whether it did (a catch-up that ran ahead of the stream is the other cause).
          const restarted = isLogResetEvent(event) || (streamed !== undefined ? event.id <= streamed : event.id < device.record.lastEventId);
          if (this.#catchingUp.has(event.deviceId) || event.id > last + 1 || restarted || needsEventBaseline(device.record)) {
            void this.catchUp(event.deviceId);
            continue;
          }
          const received = performance.now();
          // Our own pushes (and events not made at the device) only move the cursor: one queued move per run of them.
          if (!isLocalChange(event)) {
            if (this.#acks.note(event)) void this.#enqueue(() => this.#acknowledged(event.deviceId, received));
            continue;
          }
          this.#acks.changeQueued(event.deviceId);
          void this.#enqueue(() => this.#changes.handle(event, received));
        }
      } catch (error) {
        if (!this.#signal.aborted) this.#o.logger.warn({ err: error }, `device event stream ended: ${errorText(error)}`);
      }
      if (this.#signal.aborted) return;
      await this.#pause(attempt++);
      attempt = Math.max(attempt, 1);
    }
  }

  async #acknowledged(deviceId: number, received: number): Promise<void> {
    const last = this.#acks.take(deviceId);
    if (last) await this.#changes.handle(last, received);
  }

  #enqueue(work: () => Promise<void>): Promise<void> {
    this.#queue = this.#queue.then(work).catch((error: unknown) => this.#o.logger.error({ err: error }, `device event handling failed: ${errorText(error)}`));
    return this.#queue;
  }

  /**
   * Reads what a device logged since its persisted last event ID (events are dropped by
   * the realtime stream when its queue is full, and missed while disconnected), with
   * monitoring turned on. A device never read first gets its baseline at its newest
   * event, before monitoring, so nothing logged after it is missed. Each read starts at
   * the last event read (the anchor): when it is gone, the log was reset.
   */
  catchUp(deviceId: number): Promise<void> {
    const running = this.#catchingUp.get(deviceId);
    if (running) {
      // Events may have arrived after its last read: it reads once more when done.
      this.#again.add(deviceId);
      return running;
    }
    const work = (async () => {
      try {
        const first = this.#o.fleet.device(deviceId);
        if (!first) return;
        if (needsEventBaseline(first.record)) await this.#rebaseAtNewest(deviceId, 'first-contact', 'first contact');
        this.#monitorDue.delete(deviceId);
        await this.#monitor(deviceId);
        // A log that keeps looking reset (it is being reset again and again) is left to the next catch-up.
        let rebases = 0;
        for (;;) {
          this.#again.delete(deviceId);
          if (this.#monitorDue.delete(deviceId)) await this.#monitor(deviceId);
          const device = this.#o.fleet.device(deviceId);
          if (!device) return;
          const anchor = device.record.lastEventId;
          const events = await this.#o.ctx.transport.readEvents(deviceId, Math.max(anchor, 1), CATCH_UP_PAGE, { signal: this.#signal });
          const log = checkAnchor(anchor, events);
          if (log.kind === 'reset') {
            if (++rebases > MAX_REBASES) return;
            await this.#logRestarted(deviceId, `event ${anchor}, the last read, is no longer in its log`);
            continue;
          }
          if (log.kind === 'overwritten') {
            this.#o.logger.warn({ device: deviceId, lastRead: anchor, oldest: log.firstId }, `device ${deviceId} overwrote events ${anchor + 1}-${log.firstId - 1} before they were read; checking it`);
            this.#o.fleet.requestCheck(deviceId, 'headers');
          }
          const fresh = events.filter((e) => e.id > anchor);
          const resetAt = fresh.findIndex(isLogResetEvent);
          const before = resetAt < 0 ? fresh : fresh.slice(0, resetAt);
          // Changes made at the device, one by one; our own pushes acknowledged (a fan-out logs
          // one per user) only move the cursor, once, with the page's last event below.
          const mine = before.filter((e) => WATCHED_CODES.includes(e.eventCode) && isLocalChange(e));
          await this.#enqueue(async () => {
            for (const event of mine) await this.#changes.handle(event, performance.now());
            // Past events of other kinds too, unless one could not be handled.
            const last = before[before.length - 1];
            if (last && !this.#stalled.has(deviceId)) await this.#cursors.advance(deviceId, last.id);
          });
          if (this.#stalled.has(deviceId)) return;
          if (resetAt >= 0) {
            if (++rebases > MAX_REBASES) return;
            const reset = fresh[resetAt]!;
            // What the device logged after the reset is new: read from it.
            await this.#rebase(deviceId, reset.id + 1, 'log-reset', `${resetEventName(reset.eventCode)} (event ${reset.id})`);
            continue;
          }
          if (events.length < CATCH_UP_PAGE && !this.#again.has(deviceId)) return;
        }
      } catch (error) {
        if (!this.#signal.aborted) this.#o.logger.warn({ device: deviceId, err: error }, `event catch-up of device ${deviceId} failed: ${errorText(error)}`);
      } finally {
        this.#catchingUp.delete(deviceId);
        // A monitoring retry that came after this read's last round starts another.
        if (this.#monitorDue.has(deviceId) && !this.#signal.aborted) setImmediate(() => this.#retryDue(deviceId));
      }
    })();
    this.#catchingUp.set(deviceId, work);
    return work;
  }

  /**
   * The device's log is not the one its cursor points into (cleared, reset, or another
   * device under the same ID). When the new log opens with a reset event, everything
   * after it is new and read; otherwise reading starts at its newest event, as at first contact.
   */
  async #logRestarted(deviceId: number, why: string): Promise<void> {
    const [oldest] = await this.#o.ctx.transport.readEvents(deviceId, 0, 1, { signal: this.#signal });
    if (oldest && isLogResetEvent(oldest)) {
      await this.#rebase(deviceId, oldest.id + 1, 'log-reset', `${why}; ${resetEventName(oldest.eventCode)} (event ${oldest.id})`);
    } else {
      await this.#rebaseAtNewest(deviceId, 'log-reset', why);
    }
  }

  async #rebaseAtNewest(deviceId: number, reason: EventBaselineReason, why: string): Promise<void> {
    const newest = await newestEventId(this.#o.ctx.transport, deviceId, { signal: this.#signal });
    await this.#rebase(deviceId, newest + 1, reason, why);
  }

  /** Reading starts at `firstId`; a check follows (what was not read is compared instead). */
  async #rebase(deviceId: number, firstId: number, reason: EventBaselineReason, why: string): Promise<void> {
    await this.#enqueue(async () => {
      const previous = this.#o.fleet.device(deviceId)?.record.lastEventId ?? 0;
      const record = await this.#cursors.rebase(deviceId, firstId, reason, why);
      if (!record) return;
      this.#lastSeen.delete(deviceId);
      this.#changes.forgetTries(deviceId);
      const text = `device ${deviceId}: its event log is read from event ${firstId} (${why})`;
      if (reason === 'log-reset') this.#o.logger.warn({ device: deviceId, firstEventId: firstId, previousEventId: previous, reason }, text);
      else this.#o.logger.info({ device: deviceId, firstEventId: firstId, previousEventId: previous, reason }, text);
    });
    if (reason !== 'operator') this.#o.fleet.requestCheck(deviceId, 'headers');
  }

  /**
   * Turns the device's realtime events on (EnableMonitoringMulti), reading its own
   * per-device result: a failure is retried with a growing delay while the device stays
   * connected, each retry a catch-up (what it logged meanwhile was not streamed).
   */
  /** A catch-up for a device whose monitoring is due again, if it is connected (else its reconnect's catch-up takes it). */
  #retryDue(deviceId: number): void {
    if (this.#signal.aborted || !this.#monitorDue.has(deviceId)) return;
    if (this.#o.fleet.device(deviceId)?.connected) void this.catchUp(deviceId);
  }

  async #monitor(deviceId: number): Promise<void> {
    let failure: string | undefined;
    try {
      const outcome = await this.#o.ctx.transport.enableMonitoring([deviceId], { signal: this.#signal });
      const refused = outcome.failed.get(deviceId);
      if (refused) failure = `${refused.codeName}: ${refused.message}`;
    } catch (error) {
      failure = errorText(error);
    }
    const retry = this.#monitorRetry.get(deviceId);
    if (failure === undefined) {
      clearTimeout(retry?.timer);
      this.#monitorRetry.delete(deviceId);
      return;
    }
    if (this.#signal.aborted) return;
    const attempts = (retry?.attempts ?? 0) + 1;
    const { retryBaseMs, retryMaxMs } = this.#o.ctx.config.deviceEvents;
    const delay = nextDelay(attempts - 1, { baseMs: retryBaseMs, maxMs: retryMaxMs });
    this.#o.logger.warn({ device: deviceId, attempts }, `event monitoring could not be turned on for device ${deviceId} (${failure}); trying again in ${delay} ms`);
    clearTimeout(retry?.timer);
    const timer = setTimeout(() => {
      this.#monitorDue.add(deviceId);
      this.#retryDue(deviceId);
    }, delay);
    timer.unref();
    this.#monitorRetry.set(deviceId, { attempts, timer });
  }

  /**
   * Sets where reading the device's log starts (`rollcall devices events-from`): at event
   * `start`, or at its newest event (`latest`; a device not connected takes it when it
   * connects). Resolves with the record as it is then.
   */
  async startEventsFrom(deviceId: number, start: number | 'latest'): Promise<DeviceRecord | undefined> {
    const device = this.#o.fleet.device(deviceId);
    if (!device) return undefined;
    // A read under way would move the cursor after it was set.
    await this.#catchingUp.get(deviceId);
    if (start !== 'latest' && start > 1 && device.connected) {
      // Reading from `start` checks that event start - 1 is there (the anchor): past the newest, it would look like a reset.
      const [before] = await this.#o.ctx.transport.readEvents(deviceId, start - 1, 1, { signal: this.#signal });
      if (!before) throw new EventStartError(`device ${deviceId} has not logged event ${start - 1} yet (its newest is ${await newestEventId(this.#o.ctx.transport, deviceId, { signal: this.#signal })}); give an ID up to one past it, or latest`);
    }
    if (start === 'latest') {
      if (device.connected) await this.#rebaseAtNewest(deviceId, 'operator', 'newest event');
      else await this.#enqueue(async () => void (await this.#cursors.forget(deviceId)));
    } else {
      await this.#rebase(deviceId, start, 'operator', `event ${start}`);
    }
    if (device.connected) void this.catchUp(deviceId);
    return this.#o.fleet.device(deviceId)?.record;
  }

  #stall(deviceId: number, delayMs: number): void {
    if (this.#stalled.has(deviceId)) return;
    const timer = setTimeout(() => {
      this.#stalled.delete(deviceId);
      if (!this.#signal.aborted) void this.catchUp(deviceId);
    }, delayMs);
    timer.unref();
    this.#stalled.set(deviceId, timer);
  }

  /** A device that came back reads again at once, not when its stall's timer ends. */
  #unstall(deviceId: number): void {
    clearTimeout(this.#stalled.get(deviceId));
    this.#stalled.delete(deviceId);
  }

  /** Users a check found on a device that the database does not have: merged as enrollments. */
  async mergeUnknown(deviceId: number, userIds: readonly string[]): Promise<void> {
    const device = this.#o.fleet.device(deviceId);
    if (!device) return;
    for (const userId of userIds) {
      await this.#enqueue(async () => {
        const unread = await this.#changes.merge(deviceId, userId, device.record.lastEventId, performance.now());
        // No event waits on it: the user stays on the device, and the next check tries again.
        if (unread) this.#o.logger.warn({ device: deviceId, userId }, `user ${userId}, unknown to the database, could not be read from device ${deviceId}: ${errorText(unread)}; left for the next check`);
      });
    }
  }
}
