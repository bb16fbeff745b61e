/**
 * Who may do what on the admin API. Read-only methods (status, devices, verify, plan,
 * users list/show, events) need the readers' group; methods that change something (sync,
 * confirm, devices events-from, users set/delete, import, export, log-level) need the operators' group. Root
 * and the daemon's own uid are always operators. The groups are `admin.readersGroup` and
 * `admin.operatorsGroup` (default `rollcall` and `rollcall-admin`), resolved once at start.
 *
 * The socket's file mode (0660, group readersGroup) is the outer gate: the kernel refuses a
 * connect() from anyone else. A caller whose credentials could not be read (peer-credentials.ts)
 * got past that gate, so it may read, but it never changes anything.
 */
import { groupId, type PeerIdentity } from './peer-credentials.js';

export type AdminRole = 'operator' | 'reader' | 'none';

/** gRPC method names (rollcall.admin.v1.Admin) that change nothing. */
export const READ_METHODS = ['Status', 'ListDevices', 'Verify', 'Plan', 'ListUsers', 'GetUser', 'Events', 'FollowEvents'] as const;
/** gRPC method names that change the database, the devices, files or the daemon. */
export const CHANGE_METHODS = ['Sync', 'Confirm', 'SetEventStart', 'SetUser', 'DeleteUser', 'Import', 'Export', 'SetLogLevel'] as const;

export type AdminMethod = (typeof READ_METHODS)[number] | (typeof CHANGE_METHODS)[number];

export interface AccessGroups {
  readersGroup: string;
  operatorsGroup: string;
}

export interface AccessPolicy {
  readonly readersGroup: string;
  readonly operatorsGroup: string;
  readonly readersGid: number | undefined;
  readonly operatorsGid: number | undefined;
  /** The daemon's own uid: always an operator. */
  readonly daemonUid: number;
}

export async function resolveAccessPolicy(groups: AccessGroups, daemonUid = process.getuid?.() ?? 0): Promise<AccessPolicy> {
  const [readersGid, operatorsGid] = await Promise.all([groupId(groups.readersGroup), groupId(groups.operatorsGroup)]);
  return { ...groups, readersGid, operatorsGid, daemonUid };
}

export function roleOf(identity: PeerIdentity, policy: AccessPolicy): AdminRole {
  if (!identity.verified || identity.uid === undefined) return 'reader';
  if (identity.uid === 0 || identity.uid === policy.daemonUid) return 'operator';
  const groups = identity.groups ?? [];
  if (policy.operatorsGid !== undefined && groups.includes(policy.operatorsGid)) return 'operator';
  if (policy.readersGid !== undefined && groups.includes(policy.readersGid)) return 'reader';
  return 'none';
}

export function isChangeMethod(method: string): boolean {
  return (CHANGE_METHODS as readonly string[]).includes(method);
}

/** Why `role` may not call `method`, or undefined when it may. */
export function refusalOf(method: string, role: AdminRole, identity: PeerIdentity, policy: AccessPolicy): string | undefined {
  const who = identity.verified ? `${identity.user} (uid ${identity.uid})` : 'a caller whose identity could not be read from the kernel';
  if (role === 'none') return `${who} is in neither ${policy.readersGroup} nor ${policy.operatorsGroup}: the admin API is closed to it`;
  if (role === 'reader' && isChangeMethod(method)) {
    return identity.verified
      ? `${who} may read but not change: ${method} needs the ${policy.operatorsGroup} group (or root, or the daemon's user)`
      : `${method} changes something and needs a verified operator; ${who} (is perl installed? see daemon/admin/README.md)`;
  }
  return undefined;
}

/** For the start log line: what the groups resolved to. */
export function describePolicy(policy: AccessPolicy): string {
  const gid = (g: number | undefined): string => (g === undefined ? 'no such group' : `gid ${g}`);
  return `readers: ${policy.readersGroup} (${gid(policy.readersGid)}), operators: ${policy.operatorsGroup} (${gid(policy.operatorsGid)}), root and uid ${policy.daemonUid}`;
}
