/**
 * Human output of the client commands, from the same JSON shapes --json prints. Pure: the
 * caller passes `now` for relative times.
 */
import type { importJson, planJson, statusJson, userSyncJson } from './json-shapes.js';
import type { CheckJson } from './shapes/check.js';
import { leftOffLines, type LeftOffJson } from './shapes/left-off.js';
import type { DeviceJson, PendingDeviceJson } from './shapes/device.js';
import type { EventJson } from './shapes/event.js';
import type { UserView } from './user-view.js';
import { bytes, duration, list, localDateTime, plural, relativeTime, table } from './format.js';

type Status = ReturnType<typeof statusJson>;
type PlanJson = ReturnType<typeof planJson>;
type ImportJson = ReturnType<typeof importJson>;
type UserSyncJson = ReturnType<typeof userSyncJson>;

const yesNo = (b: boolean): string => (b ? 'yes' : 'no');
const devices = (ids: readonly number[]): string => (ids.length === 0 ? 'no device' : `${ids.length === 1 ? 'device' : 'devices'} ${list(ids)}`);

export function renderStatus(s: Status, now: number): string {
  const d = s.daemon;
  const lines = [
    `rollcall ${d.version ?? '?'}: ${d.state ?? '?'} (pid ${d.pid ?? '?'}, up ${duration((d.uptimeSeconds ?? 0) * 1000)}), ${s.ready ? 'ready' : 'NOT READY'}`,
    `config:  ${d.configFile ?? '(defaults)'}, log level ${d.logLevel ?? '?'}`,
    `store:   ${s.store.open ? `${plural(s.store.users, 'user')}, change feed at ${s.store.seq}` : 'not open'}` +
      (s.store.foreignPinHashes > 0 ? `; ${plural(s.store.foreignPinHashes, 'PIN hash', 'PIN hashes')} from another gateway (rollcall users list --foreign-pin-hash)` : ''),
    s.sync.running
      ? `sync:    ${s.sync.mode}; ${plural(s.sync.devices, 'device')}, ${s.sync.connected} connected, ${s.sync.inSync} in sync, ${plural(s.sync.pending, 'change')} pending` +
        (s.sync.heldRemovals > 0 ? `, ${s.sync.heldRemovals} with removals held (rollcall confirm)` : '') +
        (s.sync.quarantined > 0 ? `, ${s.sync.quarantined} quarantined` : '')
      : 'sync:    NOT RUNNING (the transport or the sync mode failed; see the plugins below)',
  ];
  if (s.cluster?.shared) lines.push(renderCluster(s.cluster, now));
  if (s.pendingDevices === null || s.pendingDevices.length > 0) lines.push(renderPending(s.pendingDevices, now));
  if (s.plugins.length > 0) {
    lines.push('plugins:');
    lines.push(
      table(
        ['  PLUGIN', 'STATE', 'HEALTH'],
        s.plugins.map((p) => [`  ${p.id}`, p.state, p.ok ? 'ok' : `FAILED${p.detail ? `: ${p.detail}` : ''}`]),
      ),
    );
  }
  return lines.join('\n');
}

/** The instances sharing the store and the devices each holds. */
function renderCluster(c: NonNullable<Status['cluster']>, now: number): string {
  return [
    `cluster: this is ${c.instanceId}; ${plural(c.instances.filter((i) => i.live).length, 'live instance')}, a share of ${c.share} device${c.share === 1 ? '' : 's'} each at most`,
    table(
      ['  INSTANCE', 'HOST', 'LIVE', 'SEEN', 'DEVICES'],
      c.instances.map((i) => [`  ${i.id}${i.self ? ' (this)' : ''}`, i.host ?? '-', yesNo(i.live), i.seenAt ? relativeTime(Date.parse(i.seenAt), now) : '-', i.devices.length === 0 ? '-' : `${i.devices.length}: ${list(i.devices)}`]),
    ),
  ].join('\n');
}

/** The connected column: yes, or why not as the gateway says it. */
function connectionText(d: DeviceJson): string {
  const via = d.connectionMode === 'accept' ? ' (accept)' : '';
  if (d.connected) return `yes${d.connection === 'tls-connected' ? ', TLS' : ''}${via}`;
  const why = d.connection === null || d.connection === 'absent' ? 'not on the gateway' : d.connection;
  return `no: ${why}${via}`;
}

/** Device-to-server devices that dialled in and wait for the accept filter. */
export function renderPending(pending: PendingDeviceJson[] | null, now: number): string {
  if (pending === null) return 'waiting to connect: unknown (the gateway\'s pending list could not be read)';
  if (pending.length === 0) return 'waiting to connect: none';
  return [
    `waiting to connect (not let in by the gateway's accept filter; add them with connection: accept): ${pending.length}`,
    table(
      ['  DEVICE', 'ADDRESS', 'LAST TRY'],
      pending.map((p) => [`  ${p.id}`, p.address ?? '-', p.lastTry ? relativeTime(Date.parse(p.lastTry), now) : '-']),
    ),
  ].join('\n');
}

export function renderDevices(devices: DeviceJson[], now: number, pending?: PendingDeviceJson[] | null): string {
  const tail = pending === undefined || (pending !== null && pending.length === 0) ? '' : `\n${renderPending(pending, now)}`;
  if (devices.length === 0) return `no devices${tail}`;
  // Several instances share the fleet: say which one serves each device.
  const owners = new Set(devices.map((d) => d.heldBy));
  const byInstance = owners.size > 1 || owners.has(null);
  return table(
    ['DEVICE', 'NAME', 'LOCATION', 'CONNECTED', 'IN SYNC', 'PENDING', 'USERS', 'LAST CHECK', 'PROBLEM', ...(byInstance ? ['INSTANCE'] : [])],
    devices.map((d) => [
      String(d.id),
      d.name ?? '-',
      d.location ?? '-',
      connectionText(d),
      d.inSync ? 'yes' : 'no',
      String(d.pending),
      d.userCount === null ? '-' : String(d.userCount),
      d.lastCheck ? `${relativeTime(Date.parse(d.lastCheck.at), now)} (${d.lastCheck.method}${d.lastCheck.inSync ? '' : `, ${d.lastCheck.differences} diff`})` : 'never',
      [d.heldRemoval ? `${d.heldRemoval.removals} removals held (rollcall confirm)` : '', d.quarantined ? 'quarantined' : '', d.lastError ?? ''].filter((x) => x !== '').join('; ') || '-',
      ...(byInstance ? [d.heldBy ?? '(none)'] : []),
    ]),
  ) + tail;
}

export function renderChecks(checks: CheckJson[]): string {
  if (checks.length === 0) return 'no devices to check';
  const leftOff = checks.filter((c) => c.leftOff.length > 0).flatMap((c) => [`device ${c.deviceId}:`, ...leftOffLines(c.leftOff, '  ')]);
  return table(
    ['DEVICE', 'CHECK', 'RESULT', 'DIFFERENCES', 'ENROLLED', 'REMOVED', 'HELD', 'LEFT ALONE'],
    checks.map((c) => [
      String(c.deviceId),
      c.method,
      c.error !== null ? `FAILED: ${c.error}` : c.inSync ? 'in sync' : 'DIFFERENT',
      String(c.differences),
      String(c.enrolled),
      String(c.removed),
      String(c.held),
      String(c.leftAlone),
    ]),
  ) + (leftOff.length > 0 ? `\nwhat devices cannot hold (left off their copies):\n${leftOff.join('\n')}` : '');
}

export function renderUserSync(u: UserSyncJson): string {
  const lines = [
    u.inDatabase
      ? `user ${u.id}: enrolled on ${devices(u.enrolled)}${u.removed.length > 0 ? `, removed from ${devices(u.removed)}` : ''}`
      : `user ${u.id} is not in the database: removed from ${devices(u.removed)}`,
  ];
  for (const f of u.failed) lines.push(`  device ${f.deviceId} FAILED: ${f.message}`);
  return lines.join('\n');
}

export function renderPlan(plan: PlanJson): string {
  if (plan.devices.length === 0) return 'no devices';
  const lines: string[] = [];
  for (const p of plan.devices) {
    if (!p.connected) {
      lines.push(`device ${p.deviceId}: not connected, no plan`);
      continue;
    }
    if (p.enroll.count === 0 && p.remove.count === 0) {
      lines.push(`device ${p.deviceId}: nothing to change${p.skipped.count > 0 ? ` (${p.skipped.count} left alone)` : ''}`);
      lines.push(...leftOffLines(p.leftOff, '  '));
      continue;
    }
    lines.push(`device ${p.deviceId}:`);
    if (p.enroll.count > 0) lines.push(`  enroll ${p.enroll.count}: ${list(p.enroll.ids, 20)}`);
    if (p.remove.count > 0) lines.push(`  remove ${p.remove.count}: ${list(p.remove.ids, 20)}${p.removalNeedsConfirmation ? ' (a mass removal: it would wait for rollcall confirm)' : ''}`);
    for (const s of p.skipped.users.slice(0, 20)) lines.push(`  left alone: ${s.userId} (${s.reason})`);
    if (p.skipped.count > Math.min(20, p.skipped.users.length)) lines.push(`  left alone: ${p.skipped.count - Math.min(20, p.skipped.users.length)} more`);
    lines.push(...leftOffLines(p.leftOff, '  '));
  }
  return lines.join('\n');
}

function validity(seconds: number): string {
  return seconds === 0 ? 'no limit' : localDateTime(seconds * 1000);
}

export function renderUsers(users: UserView[], next: string | null, total: number, shownFrom: number): string {
  if (users.length === 0) return total === 0 ? 'no users' : `no users here (${plural(total, 'user')} in all)`;
  const rows = users.map((u) => [
    u.id,
    u.name || '-',
    u.department ?? '-',
    u.disabled ? 'yes' : 'no',
    String(u.credentials.cards.length),
    String(u.credentials.fingers),
    String(u.credentials.faces),
    u.credentials.pin ? 'yes' : 'no',
    u.accessGroups.join(',') || '-',
  ]);
  const footer = `users ${shownFrom + 1}-${shownFrom + users.length} of ${total}${next ? `; next page: --after ${next}` : ''}`;
  return `${table(['ID', 'NAME', 'DEPARTMENT', 'DISABLED', 'CARDS', 'FINGERS', 'FACES', 'PIN', 'ACCESS GROUPS'], rows)}\n${footer}`;
}

export function renderUser(u: UserView, leftOffByDevice: readonly UserLeftOffJson[] = []): string {
  const rows: [string, string][] = [
    ['id', u.id],
    ['name', u.name || '-'],
    ['disabled', yesNo(u.disabled)],
    ['valid from', validity(u.startTime)],
    ['valid until', validity(u.endTime)],
    ['security level', u.securityLevel === 0 ? 'device default' : String(u.securityLevel)],
    ['access groups', u.accessGroups.join(', ') || 'none'],
    ['department', u.department ?? '-'],
    ['title', u.title ?? '-'],
    ['phone', u.phone ?? '-'],
    ['email', u.email ?? '-'],
    ['user group', u.userGroup ?? '-'],
    ['cards', u.credentials.cards.length === 0 ? 'none' : u.credentials.cards.map((c) => c.typeName).join(', ')],
    ['fingerprints', String(u.credentials.fingers)],
    ['faces', String(u.credentials.faces)],
    ['PIN', u.credentials.pin ? 'set' : 'none'],
    ['photo', u.credentials.photo ? 'yes' : 'no'],
  ];
  if (u.jobCodes.length > 0) rows.push(['job codes', u.jobCodes.map((j) => `${j.code} ${j.label}`).join(', ')]);
  for (const [name, value] of Object.entries(u.custom)) rows.push([name, value]);
  for (const d of leftOffByDevice) for (const item of d.leftOff) rows.push([`device ${d.deviceId}`, `left off ${item.text}`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${`${k}:`.padEnd(w + 2)}${v}`).join('\n');
}

/** What one device's copy of a user leaves off (`users show`). */
export interface UserLeftOffJson {
  deviceId: number;
  leftOff: LeftOffJson[];
}

export function renderImport(r: ImportJson): string {
  if (r.state === 'duplicate') return `${r.file}: already imported (same content, ${r.hash.slice(0, 12)}…); nothing changed`;
  if (r.state === 'failed') return `${r.file}: REFUSED: ${r.reason ?? 'no reason given'}${r.path ? `\n  moved to ${r.path}` : ''}${r.reportJson ? `\n  report: ${r.reportJson}` : ''}`;
  const lines = [
    `${r.file} (${r.format}): ${plural(r.rows.imported, 'user')} imported, ${r.rows.unchanged} unchanged, ${r.rows.failed} failed, in ${duration(r.durationMs)}`,
  ];
  for (const note of r.notes) lines.push(`  note: ${note}`);
  if (r.errorsCsv) lines.push(`  failed rows: ${r.errorsCsv}`);
  if (r.path) lines.push(`  file: ${r.path}`);
  return lines.join('\n');
}

export function renderExport(format: string, users: number, size: number, file: string, where: 'daemon' | 'local'): string {
  return `exported ${plural(users, 'user')} as ${format} (${bytes(size)}) to ${file}${where === 'daemon' ? ' (on the daemon\'s side)' : ''}`;
}

export function renderEvent(e: EventJson): string {
  const who = [e.userId !== null ? `user ${e.userId}` : '', e.deviceId !== null ? `device ${e.deviceId}` : ''].filter((x) => x !== '').join(', ');
  return `${localDateTime(Date.parse(e.at))}  ${e.kind.padEnd(24)}  ${e.message}${who ? `  [${who}]` : ''}`;
}
