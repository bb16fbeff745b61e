/**
 * Each device's position in its own event log (DeviceRecord.lastEventId and its
 * eventBaseline): moved forward as events are handled, set elsewhere when reading starts
 * again (first contact, a log reset, an operator's choice), and written to the store. The
 * follower calls it from its one event queue, so no two moves of one device race.
 */
import type { Logger } from 'pino';
import type { Mutation } from '../plugins/api.js';
import type { DeviceRecord, EventBaselineReason } from '../model/device.js';
import type { Fleet } from './fleet.js';
import { eventBaselineEvent } from './sync-events.js';
import { errorText, type SyncContext } from './context.js';

export interface EventCursorsOptions {
  ctx: SyncContext;
  logger: Logger;
  fleet: Fleet;
}

export class EventCursors {
  readonly #o: EventCursorsOptions;
  /** Devices whose last event ID moved in memory but is not written yet. */
  readonly #dirty = new Set<number>();
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(options: EventCursorsOptions) {
    this.#o = options;
  }

  /**
   * Moves a device's last event ID forward. With bookkeeping to commit, it is committed at
   * once; an acknowledgement alone (the device logging our own push) is only noted and
   * written within a second: re-reading a few acknowledgements after a crash is harmless, a
   * commit per acknowledgement is not.
   */
  async advance(deviceId: number, eventId: number, extra: Mutation[] = [], change?: (record: DeviceRecord) => DeviceRecord): Promise<void> {
    const record = this.#o.fleet.update(deviceId, (r) => {
      const changed = change ? change(r) : r;
      return eventId > changed.lastEventId ? { ...changed, lastEventId: eventId } : changed;
    });
    if (!record) return;
    if (extra.length === 0 && !change) {
      this.#dirty.add(deviceId);
      this.#flushSoon();
      return;
    }
    this.#dirty.delete(deviceId);
    await this.#o.ctx.leases.commit([deviceId], [{ type: 'putDevice', device: record }, ...extra]);
  }

  /**
   * Sets where reading starts: the next event read is `firstId`, whatever was read before
   * (it may move back: a reset log counts from 1 again). Committed with its event-log entry.
   */
  async rebase(deviceId: number, firstId: number, reason: EventBaselineReason, why: string): Promise<DeviceRecord | undefined> {
    const { fleet, ctx } = this.#o;
    const previous = fleet.device(deviceId)?.record.lastEventId;
    const record = fleet.update(deviceId, (r) => ({ ...r, lastEventId: firstId - 1, eventBaseline: { eventId: firstId, at: ctx.now(), reason } }));
    if (!record || previous === undefined) return undefined;
    this.#dirty.delete(deviceId);
    await ctx.leases.commit([deviceId], [{ type: 'putDevice', device: record }, { type: 'appendEvent', event: eventBaselineEvent(deviceId, firstId, previous, reason, why) }]);
    return record;
  }

  /** Forgets where reading was: the device's next catch-up takes a baseline at its newest event. */
  async forget(deviceId: number): Promise<DeviceRecord | undefined> {
    const record = this.#o.fleet.update(deviceId, ({ eventBaseline: _, ...r }) => ({ ...r, lastEventId: 0 }));
    if (!record) return undefined;
    this.#dirty.delete(deviceId);
    await this.#o.ctx.leases.commit([deviceId], [{ type: 'putDevice', device: record }]);
    return record;
  }

  #flushSoon(): void {
    if (this.#flushTimer) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      void this.flush();
    }, 1000);
  }

  /** Writes every position noted but not written yet (also at stop). */
  async flush(): Promise<void> {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const mutations: Mutation[] = [];
    const ids: number[] = [];
    for (const id of this.#dirty) {
      const device = this.#o.fleet.device(id);
      if (device) {
        mutations.push({ type: 'putDevice', device: device.record });
        ids.push(id);
      }
    }
    this.#dirty.clear();
    if (mutations.length > 0) {
      await this.#o.ctx.leases.commit(ids, mutations).catch((error: unknown) => this.#o.logger.warn({ err: error }, `could not save device event positions: ${errorText(error)}`));
    }
  }
}
