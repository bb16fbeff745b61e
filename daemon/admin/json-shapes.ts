/**
 * The --json output of the client commands: one stable shape per command, documented in
 * daemon/admin/README.md. Keys are always present (null when there is no value), times are
 * ISO 8601 strings, so scripts never test for a missing key. A device, a check, an event and a
 * plugin have their fields listed once, for the wire and --json together, under shapes/.
 */
import type {
  CheckResult,
  ConfirmResponse,
  DevicePlan,
  ExportResult,
  ImportReport,
  StatusResponse,
  UserSyncResult,
} from '../../proto/gen/rollcall/admin/v1/admin.js';
import type { UserView } from './user-view.js';
import { checkShape } from './shapes/check.js';
import { leftOffList } from './shapes/left-off.js';
import { pluginShape } from './shapes/plugin.js';
import { pendingDeviceShape } from './shapes/device.js';

const iso = (ms: number): string => new Date(ms).toISOString();
const orNull = (text: string): string | null => (text === '' ? null : text);

export function statusJson(r: StatusResponse, now: number) {
  const d = r.daemon;
  return {
    daemon: {
      state: d?.state ?? null,
      version: d?.version ?? null,
      pid: d?.pid ?? null,
      startedAt: d ? iso(d.startedAtMs) : null,
      uptimeSeconds: d ? Math.max(0, Math.round((now - d.startedAtMs) / 1000)) : null,
      configFile: d ? orNull(d.configFile) : null,
      logLevel: d?.logLevel ?? null,
    },
    store: {
      open: r.store?.open ?? false,
      users: r.store?.users ?? 0,
      seq: r.store?.seq ?? 0,
      foreignPinHashes: r.store?.foreignPinHashes ?? 0,
      pinHashScheme: r.store ? orNull(r.store.pinHashScheme) : null,
    },
    sync: {
      running: r.sync?.running ?? false,
      mode: r.sync ? orNull(r.sync.mode) : null,
      devices: r.sync?.devices ?? 0,
      connected: r.sync?.connected ?? 0,
      inSync: r.sync?.inSync ?? 0,
      pending: r.sync?.pending ?? 0,
      heldRemovals: r.sync?.heldRemovals ?? 0,
      quarantined: r.sync?.quarantined ?? 0,
    },
    plugins: r.plugins.map(pluginShape.toJson),
    ready: r.ready,
    pendingDevices: r.pendingKnown ? r.pendingDevices.map(pendingDeviceShape.toJson) : null,
    cluster: r.cluster
      ? {
          instanceId: r.cluster.instanceId,
          shared: r.cluster.shared,
          share: r.cluster.share,
          instances: r.cluster.instances.map((i) => ({ id: i.id, host: orNull(i.host), live: i.live, self: i.self, startedAt: i.startedAtMs ? iso(i.startedAtMs) : null, seenAt: i.seenAtMs ? iso(i.seenAtMs) : null, devices: i.devices })),
        }
      : null,
  };
}

export function userSyncJson(u: UserSyncResult) {
  return { id: u.userId, inDatabase: u.inDatabase, enrolled: u.enrolled, removed: u.removed, failed: u.failed.map((f) => ({ deviceId: f.deviceId, message: f.message })) };
}

export function syncJson(released: number[], full: boolean, checks: CheckResult[], user: UserSyncResult | undefined) {
  return { released, full, checks: checks.map(checkShape.toJson), user: user ? userSyncJson(user) : null };
}

export function verifyJson(deep: boolean, checks: CheckResult[]) {
  return { deep, inSync: checks.every((c) => c.inSync && c.error === ''), checks: checks.map(checkShape.toJson) };
}

export function planJson(devices: DevicePlan[]) {
  return {
    devices: devices.map((p) => ({
      deviceId: p.deviceId,
      connected: p.connected,
      enroll: { count: p.enrollCount, ids: p.enroll },
      remove: { count: p.removeCount, ids: p.remove },
      skipped: { count: p.skippedCount, users: p.skipped.map((s) => ({ userId: s.userId, reason: s.reason })) },
      truncated: p.truncated,
      removalNeedsConfirmation: p.removalNeedsConfirmation,
      leftOff: leftOffList.toJson(p.leftOff),
    })),
  };
}

export function confirmJson(r: ConfirmResponse) {
  return { released: r.released.map((x) => ({ deviceId: x.deviceId, removals: x.removals })) };
}

export function usersListJson(users: UserView[], next: string, total: number) {
  return { users, next: orNull(next), total };
}

/** As daemon/ingest/types.ts ImportReport, with absent values as null. */
export function importJson(r: ImportReport) {
  return {
    file: r.file,
    format: r.format,
    hash: r.hash,
    state: r.state,
    rows: { imported: r.imported, unchanged: r.unchanged, failed: r.failed },
    reason: orNull(r.reason),
    notes: r.notes,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    durationMs: r.durationMs,
    path: orNull(r.path),
    errorsCsv: orNull(r.errorsCsv),
    reportJson: orNull(r.reportJson),
  };
}

/** `where`: daemon (the file is in the daemon's outgoing/ folder) or local (written by the CLI). */
export function exportJson(r: ExportResult, file: string, where: 'daemon' | 'local') {
  return { format: r.format, users: r.users, bytes: r.bytes, file, where };
}

export interface ErrorJson {
  error: {
    /** ROLLCALL_ERR_* when known. */
    code: string | null;
    /** The gRPC status name, or UNAVAILABLE / PERMISSION_DENIED / USAGE / INPUT / CONFIG for local failures. */
    status: string;
    message: string;
    issues: { field: string; rule: string; message: string; userId?: string; index?: number }[];
  };
}
