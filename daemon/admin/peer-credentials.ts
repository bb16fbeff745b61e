/**
 * Who is on the other end of an admin connection, from the kernel: SO_PEERCRED on the
 * accepted unix socket (the pid, uid and gid of the process that connected, set by the
 * kernel at connect(), which a client cannot forge), then the user name and groups.
 *
 * Node has no getsockopt(). The choices were a native addon (none may be built or
 * downloaded at install), sock_diag netlink (Node cannot open AF_NETLINK), `ss -xp` with a
 * /proc/<pid>/fd scan (finds the peer's inode, but a non-root daemon may not read other
 * users' fd tables, so it fails exactly where it matters), or handing the socket to a
 * program that can call getsockopt: perl's Socket module (perl-base is Essential on Debian
 * and Ubuntu). The accepted socket's descriptor is shared as the helper's stdin; the helper
 * reads nothing from it, prints `pid uid gid` and exits. Without perl the identity is
 * unknown, and the server treats such a caller as a reader (see access.ts).
 *
 * Groups are those of the connecting process (`Groups:` and `Gid:` in /proc/<pid>/status),
 * not of its user's entry in /etc/group: a process that dropped a group does not keep its
 * rights. Under the unit's `ProtectProc=invisible` other users' processes are hidden from
 * the daemon; then the groups are the user's (`id -G`, NSS) plus the process's gid. The
 * name comes from `getent passwd` (NSS: LDAP users too).
 */
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';

export interface PeerIdentity {
  /** True when the kernel gave the credentials; false when they could not be read. */
  verified: boolean;
  uid?: number;
  gid?: number;
  pid?: number;
  /** The user name of `uid`, or `uid:N` when it has none. */
  user?: string;
  /** The primary and supplementary group IDs of the connecting process. */
  groups?: number[];
}

const PEERCRED_SCRIPT = 'use Socket; my $c = getsockopt(STDIN, SOL_SOCKET, SO_PEERCRED) or exit 3; my ($pid, $uid, $gid) = unpack("iII", $c); print "$pid $uid $gid\\n";';
const HELPER_TIMEOUT_MS = 5000;

/** The descriptor of an accepted unix socket (libuv keeps it on the handle; Node has no public accessor). */
function descriptorOf(socket: Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** pid, uid, gid of the peer, or undefined when they cannot be read (no perl, not a unix socket). */
export function readPeerCredentials(socket: Socket, perl = 'perl'): Promise<{ pid: number; uid: number; gid: number } | undefined> {
  const fd = descriptorOf(socket);
  if (fd === undefined) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    let out = '';
    let child;
    try {
      // The integer form shares the descriptor and leaves the socket's stream alone.
      child = spawn(perl, ['-e', PEERCRED_SCRIPT], { stdio: [fd, 'pipe', 'ignore'], timeout: HELPER_TIMEOUT_MS });
    } catch {
      resolve(undefined);
      return;
    }
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', () => resolve(undefined));
    child.once('close', (code) => {
      const match = /^(\d+) (\d+) (\d+)$/.exec(out.trim());
      if (code !== 0 || !match) return resolve(undefined);
      resolve({ pid: Number(match[1]), uid: Number(match[2]), gid: Number(match[3]) });
    });
  });
}

/** The groups of a live process, from /proc/<pid>/status. */
async function processGroups(pid: number): Promise<number[] | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const gid = /^Gid:\s+(\d+)/m.exec(status)?.[1];
    const groups = /^Groups:\s*([\d ]*)$/m.exec(status)?.[1] ?? '';
    const all = [...(gid === undefined ? [] : [Number(gid)]), ...groups.split(/\s+/).filter(Boolean).map(Number)];
    return [...new Set(all)];
  } catch {
    return undefined;
  }
}

/** The groups of a user by name, from NSS (`id -G NAME`). */
function userGroups(user: string): Promise<number[] | undefined> {
  return new Promise((resolve) => {
    execFile('id', ['-G', '--', user], { timeout: HELPER_TIMEOUT_MS }, (error, stdout) => {
      if (error) return resolve(undefined);
      resolve(stdout.trim().split(/\s+/).filter(Boolean).map(Number));
    });
  });
}

/** `getent DATABASE KEY`'s first field, or undefined. */
export function getentName(database: 'passwd' | 'group', key: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('getent', [database, key], { timeout: HELPER_TIMEOUT_MS }, (error, stdout) => {
      if (error) return resolve(undefined);
      resolve(stdout.split('\n')[0]?.split(':')[0] || undefined);
    });
  });
}

/** The numeric ID of a group name (`getent group NAME`, third field), or undefined when there is none. */
export function groupId(name: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile('getent', ['group', name], { timeout: HELPER_TIMEOUT_MS }, (error, stdout) => {
      const gid = error ? undefined : stdout.split('\n')[0]?.split(':')[2];
      resolve(gid === undefined || gid === '' ? undefined : Number(gid));
    });
  });
}

/** The kernel's word on who connected, with the user's name and the process's groups. */
export async function peerIdentity(socket: Socket, perl?: string): Promise<PeerIdentity> {
  const credentials = await readPeerCredentials(socket, perl);
  if (!credentials) return { verified: false };
  const [user, fromProcess] = await Promise.all([getentName('passwd', String(credentials.uid)), processGroups(credentials.pid)]);
  const groups = fromProcess ?? [...new Set([credentials.gid, ...((user === undefined ? undefined : await userGroups(user)) ?? [])])];
  return { verified: true, ...credentials, user: user ?? `uid:${credentials.uid}`, groups };
}
