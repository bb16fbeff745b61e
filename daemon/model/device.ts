/** A device the site syncs to, as the store keeps it (ARCHITECTURE §4). */

export type CheckMethod = 'headers' | 'deep';

export interface DeviceCheck {
  /** Unix ms when the check finished. */
  at: number;
  method: CheckMethod;
  inSync: boolean;
  /** Users that differed (missing, extra or changed) when the check ran. */
  differences: number;
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
  /** The last device event ID read (GetLog cursor is this + 1). */
  lastEventId: number;
  /** The last reconcile check; a device is in sync only if this says so. */
  lastCheck?: DeviceCheck;
  /** A mass removal held for an operator's confirmation. */
  heldRemoval?: { at: number; removals: number; holding: number };
}
