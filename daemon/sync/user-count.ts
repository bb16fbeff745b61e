/**
 * The user count of each device as the devices table shows it (USERS): a check sets it from
 * the list it read; after that, acknowledged batches refresh it with a cheap count from the
 * device (the transport's userCount: GetStatistic, not a list), so that after a fan-out it is
 * what the device holds, not what the last check saw (0 for a device filled since).
 */
import type { DeviceRecord } from '../model/device.js';
import type { DeviceState } from './device-state.js';
import { errorText, type SyncContext } from './context.js';

/** How often a device still catching up with the feed has its user count asked again. */
export const USER_COUNT_EVERY_MS = 10_000;

export class UserCounts {
  readonly #ctx: SyncContext;
  /** When each device's count was last asked. */
  readonly #askedAt = new Map<number, number>();

  constructor(ctx: SyncContext) {
    this.#ctx = ctx;
  }

  /**
   * After `devices` acknowledged a batch: asks those that caught up with the feed, and those
   * still catching up at most every USER_COUNT_EVERY_MS, and stores what changed. A count
   * that fails changes nothing: it is only for display.
   */
  async refresh(devices: readonly DeviceState[]): Promise<void> {
    const { transport, store, signal, logger } = this.#ctx;
    if (!transport.userCount) return;
    const now = this.#ctx.now();
    const head = store.currentSeq();
    const due = devices.filter((d) => d.cursor >= head || now - (this.#askedAt.get(d.id) ?? 0) >= USER_COUNT_EVERY_MS);
    const records: DeviceRecord[] = [];
    await Promise.all(
      due.map(async (device) => {
        this.#askedAt.set(device.id, now);
        try {
          const count = await transport.userCount!(device.id, { signal });
          if (count !== device.record.userCount) records.push(device.update((r) => ({ ...r, userCount: count })));
        } catch (error) {
          logger.debug({ device: device.id, err: error }, `device ${device.id}: its user count could not be read: ${errorText(error)}`);
        }
      }),
    );
    if (records.length > 0) await this.#ctx.leases.commit(records.map((r) => r.id), records.map((device) => ({ type: 'putDevice' as const, device })));
  }
}
