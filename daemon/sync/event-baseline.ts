/**
 * Where reading a device's event log starts (issue 13 item 5). A device seen for the first
 * time starts at its newest event, not at event 0: its history (enrolls and deletes made
 * before rollcall knew it) is not replayed; a header check covers what it holds. A log that
 * was cleared or reset starts a new baseline. Finding the newest event takes a handful of
 * one-event GetLog calls (a search over the IDs), never a read of the whole log.
 */
import type { CallOptions, DeviceEvent, TransportInstance } from '../plugins/api.js';

/** Device events that say the log (and maybe the users) started again (spec/gsdk-wire.md §4). */
export const LOG_RESET_EVENT = {
  EVENT_LOG_CLEARED: 0x4200,
  DATABASE_RESET: 0x4501,
  FACTORY_RESET: 0x4502,
} as const;

const RESET_CODES = new Set<number>(Object.values(LOG_RESET_EVENT));

export function isLogResetEvent(event: Pick<DeviceEvent, 'eventCode'>): boolean {
  return RESET_CODES.has(event.eventCode);
}

export function resetEventName(eventCode: number): string {
  const entry = Object.entries(LOG_RESET_EVENT).find(([, code]) => code === eventCode);
  return entry ? entry[0] : `0x${eventCode.toString(16)}`;
}

type LogReader = Pick<TransportInstance, 'readEvents'>;

/**
 * The ID of the device's newest event, 0 for an empty log. GetLog(start, 1) answers the
 * first event at or after `start`, so a probe that answers moves the lower bound to the
 * ID it got, one that answers nothing moves the upper bound: doubling steps up from the
 * oldest event, then halving, about 2·log2(log size) calls (some 45 for 3 million events).
 */
export async function newestEventId(transport: LogReader, deviceId: number, options?: CallOptions): Promise<number> {
  const probe = async (start: number): Promise<number | undefined> => (await transport.readEvents(deviceId, start, 1, options))[0]?.id;
  const oldest = await probe(0);
  if (oldest === undefined) return 0;
  let low = oldest;
  let step = 1;
  let high = 0;
  while (high === 0) {
    const start = low + step;
    const found = await probe(start);
    if (found === undefined) high = start;
    else {
      low = Math.max(low, found);
      step *= 2;
    }
  }
  // Invariant: an event exists at `low`, none at or after `high`.
  while (high - low > 1) {
    const middle: number = low + Math.floor((high - low) / 2);
    const found = await probe(middle);
    if (found === undefined || found >= high) high = middle;
    else low = Math.max(low, found);
  }
  return low;
}

/** What the first page of a catch-up read from the last event read says about the log. */
export type AnchorCheck =
  | { kind: 'intact' }
  /** The last event read is gone and nothing took its place: the log was cleared or reset. */
  | { kind: 'reset' }
  /** The log moved past the last event read (it wrapped, oldest overwritten): events were missed. */
  | { kind: 'overwritten'; firstId: number };

/**
 * A catch-up reads from the last event read (`lastEventId`, the anchor), not after it: that
 * event still being there says the log is the one the cursor belongs to.
 */
export function checkAnchor(lastEventId: number, page: readonly DeviceEvent[]): AnchorCheck {
  const first = page[0];
  if (lastEventId === 0) return { kind: 'intact' };
  if (first === undefined || first.id < lastEventId) return { kind: 'reset' };
  if (first.id > lastEventId) return { kind: 'overwritten', firstId: first.id };
  return { kind: 'intact' };
}
