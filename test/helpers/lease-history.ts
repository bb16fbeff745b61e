/**
 * Every change of hands of a device lease, as PostgreSQL saw it, and the check that no device
 * was called by two instances in one lease period (the simulator's caller log,
 * simulator/caller-log.ts, against this history).
 *
 * `recordLeaseHistory` puts a trigger on the `leases` table (plugins/storage/postgres/leases.ts):
 * each take (a new epoch) and each give-back (owner NULL) adds a row with the server's
 * clock_timestamp(), and for a take the expiry the previous epoch had reached (its last
 * renewal's). Renewals add nothing. The simulator and PostgreSQL run on one machine, so their
 * clocks are the same clock.
 *
 * A lease period of a device is from the take of an epoch to the next take (whoever's);
 * within it only the owner of that epoch may call the device, and only until its lease ended
 * (expired, or given back). `checkLeasePeriods` is pure.
 */
import type { PostgresServer } from './postgres-server.js';

export interface LeaseChange {
  deviceId: number;
  /** Unix ms, server clock. */
  atMs: number;
  /** Undefined: given back. */
  owner: string | undefined;
  epoch: number;
  /** For a take of a device leased before: the expiry the previous epoch reached (unix ms). */
  previousExpiresAtMs?: number;
}

export async function recordLeaseHistory(server: PostgresServer, schema: string): Promise<void> {
  await server.query(`
    CREATE TABLE ${schema}.lease_history (device_id bigint, owner text, epoch bigint, old_epoch bigint, old_expires_at timestamptz, at timestamptz DEFAULT clock_timestamp());
    CREATE FUNCTION ${schema}.record_lease_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO ${schema}.lease_history (device_id, owner, epoch) VALUES (NEW.device_id, NEW.owner, NEW.epoch);
      ELSIF NEW.owner IS DISTINCT FROM OLD.owner OR NEW.epoch <> OLD.epoch THEN
        INSERT INTO ${schema}.lease_history (device_id, owner, epoch, old_epoch, old_expires_at) VALUES (NEW.device_id, NEW.owner, NEW.epoch, OLD.epoch, OLD.expires_at);
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER lease_history AFTER INSERT OR UPDATE ON ${schema}.leases FOR EACH ROW EXECUTE FUNCTION ${schema}.record_lease_change();
  `);
}

export async function readLeaseHistory(server: PostgresServer, schema: string): Promise<LeaseChange[]> {
  const rows = (
    await server.query(
      `SELECT device_id, owner, epoch, old_epoch, (extract(epoch FROM old_expires_at) * 1000)::float8 AS old_expires_ms, (extract(epoch FROM at) * 1000)::float8 AS at_ms
       FROM ${schema}.lease_history ORDER BY at, device_id`,
    )
  ).rows as { device_id: string; owner: string | null; epoch: string; old_epoch: string | null; old_expires_ms: number | null; at_ms: number }[];
  return rows.map((r) => ({
    deviceId: Number(r.device_id),
    atMs: r.at_ms,
    owner: r.owner ?? undefined,
    epoch: Number(r.epoch),
    ...(r.old_epoch !== null && Number(r.old_epoch) !== Number(r.epoch) && r.old_expires_ms !== null ? { previousExpiresAtMs: r.old_expires_ms } : {}),
  }));
}

/** Consecutive calls of one device by one caller (as Control.ReadCallers gives them). */
export interface CallerRunIn {
  caller: string;
  firstAtMs: number;
  lastAtMs: number;
  calls: number;
}

export interface LeasePeriod {
  owner: string;
  epoch: number;
  /** The take. */
  fromMs: number;
  /** The next take of the device (Infinity: none yet). */
  toMs: number;
  /** Until when the owner held it: its expiry, or its give-back (Infinity: not known to have ended). */
  heldUntilMs: number;
}

export interface LeaseViolation {
  deviceId: number;
  caller: string;
  calls: number;
  firstAtMs: number;
  lastAtMs: number;
  /** The period(s) of another owner the calls fell into, or none for calls outside the caller's own lease. */
  periods: LeasePeriod[];
}

export interface LeaseCheck {
  devices: number;
  calls: number;
  runs: number;
  /** Devices called by more than one instance over the run (handed over). */
  handedOver: number;
  /** Calls of an instance in a lease period whose epoch another instance held. */
  twoInstances: LeaseViolation[];
  /** Calls of an instance at a moment it held no live lease of the device (before its take, after its expiry or give-back). */
  outsideOwnLease: LeaseViolation[];
}

/** The lease periods of every device, from its history (changes in any order). */
export function leasePeriods(history: readonly LeaseChange[]): Map<number, LeasePeriod[]> {
  const byDevice = new Map<number, LeaseChange[]>();
  for (const change of history) {
    let list = byDevice.get(change.deviceId);
    if (!list) byDevice.set(change.deviceId, (list = []));
    list.push(change);
  }
  const out = new Map<number, LeasePeriod[]>();
  for (const [deviceId, changes] of byDevice) {
    changes.sort((a, b) => a.atMs - b.atMs || a.epoch - b.epoch);
    const periods: LeasePeriod[] = [];
    for (const change of changes) {
      const open = periods.at(-1);
      if (change.owner === undefined) {
        // A give-back of the open epoch: its owner held it until now.
        if (open && open.epoch === change.epoch) open.heldUntilMs = Math.min(open.heldUntilMs, change.atMs);
        continue;
      }
      if (open && open.epoch === change.epoch) continue;
      if (open) {
        open.toMs = change.atMs;
        open.heldUntilMs = Math.min(open.heldUntilMs, change.previousExpiresAtMs ?? change.atMs, change.atMs);
      }
      periods.push({ owner: change.owner, epoch: change.epoch, fromMs: change.atMs, toMs: Infinity, heldUntilMs: Infinity });
    }
    out.set(deviceId, periods);
  }
  return out;
}

/**
 * Checks every run of calls against the lease periods: a run of `caller` must not overlap a
 * period another instance took (two instances in one lease period), and its first and last
 * calls must each fall while `caller` held a live lease of the device.
 */
export function checkLeasePeriods(history: readonly LeaseChange[], callers: readonly { deviceID: number; runs: readonly CallerRunIn[] }[]): LeaseCheck {
  const periods = leasePeriods(history);
  const check: LeaseCheck = { devices: 0, calls: 0, runs: 0, handedOver: 0, twoInstances: [], outsideOwnLease: [] };
  for (const { deviceID, runs } of callers) {
    if (runs.length === 0) continue;
    check.devices += 1;
    check.runs += runs.length;
    if (new Set(runs.map((r) => r.caller)).size > 1) check.handedOver += 1;
    const own = periods.get(deviceID) ?? [];
    for (const run of runs) {
      check.calls += run.calls;
      const violation = { deviceId: deviceID, caller: run.caller, calls: run.calls, firstAtMs: run.firstAtMs, lastAtMs: run.lastAtMs };
      const others = own.filter((p) => p.owner !== run.caller && p.fromMs <= run.lastAtMs && p.toMs > run.firstAtMs);
      if (others.length > 0) check.twoInstances.push({ ...violation, periods: others });
      const held = (at: number): boolean => own.some((p) => p.owner === run.caller && p.fromMs <= at && at <= p.heldUntilMs);
      if (!held(run.firstAtMs) || !held(run.lastAtMs)) check.outsideOwnLease.push({ ...violation, periods: [] });
    }
  }
  return check;
}
