/** A device the site syncs to, as the store keeps it (ARCHITECTURE §4). */
import type { DeviceHolds } from './device-copy.js';

export type CheckMethod = 'headers' | 'deep';

export interface DeviceCheck {
  /** Unix ms when the check finished. */
  at: number;
  method: CheckMethod;
  inSync: boolean;
  /** Users that differed (missing, extra or changed) when the check ran. */
  differences: number;
}

/** Why the event cursor of a device was set to start somewhere other than where it was. */
export type EventBaselineReason = 'first-contact' | 'log-reset' | 'operator';

export interface EventBaseline {
  /** The first event ID read under this baseline (events below it were never read). */
  eventId: number;
  /** Unix ms when it was taken. */
  at: number;
  reason: EventBaselineReason;
}

/** A user version one device refused (DeviceRecord.rejectedUsers). */
export interface RejectedUser {
  hash: string;
  reason: string;
  unknown?: true;
}

export interface DeviceRecord {
  /** G-SDK device ID. */
  id: number;
  /** Configured by the operator, or found on the gateway. */
  source: 'config' | 'discovered';
  address?: string;
  port?: number;
  useSSL?: boolean;
  location?: string;
  /** Access groups this device serves (access-group-devices mode). */
  accessGroups?: number[];
  /** device.Type from GetCapabilityInfo, once known. */
  type?: number;
  /** finger.TemplateFormat: 0 SUPREMA, 1 ISO, 2 ANSI. */
  templateFormat?: number;
  useAlphanumericID?: boolean;
  /**
   * What the device holds per user, from its last profile (device-copy.ts): kept so that
   * `plan` and `users show` can say what a device that is away would be left without.
   */
  holds?: DeviceHolds;
  /** The last device event ID read (GetLog cursor is this + 1). */
  lastEventId: number;
  /**
   * Where reading this device's event log (re)started. Absent on a device whose log was
   * never read: its first catch-up takes one at the newest event, so the history logged
   * before rollcall first saw the device is not replayed (see needsEventBaseline).
   */
  eventBaseline?: EventBaseline;
  /** The last reconcile check; a device is in sync only if this says so. */
  lastCheck?: DeviceCheck;
  /** A mass removal held for an operator's confirmation. */
  heldRemoval?: { at: number; removals: number; holding: number; upToSeq: number };
  /** Removals up to this seq were confirmed by an operator (the guard lets them through). */
  removalConfirmedUpTo?: number;
  /**
   * Users this device refused for a reason of their own (a rule, capacity of a credential,
   * a template format), by user ID, with the device-projection hash of the version refused:
   * that version is not offered again; a changed user is. `unknown`: the device failed it with
   * a code that says nothing about the content (INTERNAL, UNKNOWN, ...); it may have been the
   * device's passing trouble, so each check of the device offers it again (the change feed does not).
   */
  rejectedUsers?: Record<string, RejectedUser>;
  /**
   * Users deleted at the device itself, with the device-projection hash of the user then.
   * Under `sync.deviceDeletes: keep-deleted` the device is not given the user back until
   * the user changes (its hash differs).
   */
  deletedAtDevice?: Record<string, string>;
  /**
   * rollcall added this device's ID to the gateway's accept filter (connection: accept), so
   * it takes it out again when the device leaves the config; IDs others put there stay.
   */
  acceptFilterAdded?: boolean;
  /**
   * Users the device held at its last check or, since, after its last acknowledged batch
   * (counted then by the transport: Fleet.countUsers).
   */
  userCount?: number;
}

/**
 * Whether the device's event log still needs a starting point: never read (no baseline,
 * nothing read), or an operator asked for a start at the newest event. Records written
 * before baselines existed that read events already (lastEventId > 0) keep their cursor.
 */
export function needsEventBaseline(record: Pick<DeviceRecord, 'eventBaseline' | 'lastEventId'>): boolean {
  return record.eventBaseline === undefined && record.lastEventId === 0;
}
