/**
 * The admin socket file's life: a stale file is cleared, a live one is never taken over, a
 * path that is not a socket is refused; once bound the socket gets mode 0660 and the
 * readers' group, and on stop only the socket this daemon bound is removed.
 */
import { chmod, chown, lstat, mkdir, unlink } from 'node:fs/promises';
import { createConnection, type Server as NetServer } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { RollcallError } from '../errors.js';
import { MAX_SOCKET_PATH_BYTES } from './socket-path.js';
import type { AccessPolicy } from './access.js';

export const ADMIN_SOCKET_ERROR = 'ROLLCALL_ERR_ADMIN_SOCKET' as const;

/** The socket cannot be used: another daemon answers on it, or the path is not a socket. */
export class AdminSocketError extends RollcallError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(ADMIN_SOCKET_ERROR, message, { ...(options?.cause === undefined ? {} : { cause: options.cause }), detail: { path } });
    this.name = 'AdminSocketError';
    this.path = path;
  }
}

/** Whether something accepts connections on the unix socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.destroy();
      if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') resolve(false);
      else reject(error);
    });
  });
}

/** Readies `path` for a bind: checks its length, makes its folder, clears a stale socket. */
export async function prepareSocketPath(path: string, logger: Logger): Promise<void> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new AdminSocketError(path, `admin socket path is ${Buffer.byteLength(path)} bytes; a unix socket path is at most ${MAX_SOCKET_PATH_BYTES} (set admin.socket to a shorter path)`);
  }
  // 0750: between bind and chmod the socket has the umask's mode; the folder keeps others out.
  await mkdir(dirname(path), { recursive: true, mode: 0o750 });
  await clearStale(path, logger);
}

/** Removes a socket file nothing answers on; refuses a live socket or a file that is not a socket. */
async function clearStale(path: string, logger: Logger): Promise<void> {
  let stats;
  try {
    stats = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!stats.isSocket()) {
    throw new AdminSocketError(path, `${path} exists and is not a socket; rollcall will not replace it (remove it, or set admin.socket to another path)`);
  }
  if (await answers(path)) {
    throw new AdminSocketError(path, `another rollcall daemon answers on the admin socket ${path}; stop it first, or give this one its own admin.socket`);
  }
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  logger.info({ socket: path }, `removed a stale admin socket at ${path} (nothing answered on it)`);
}

/** Binds `server` to `path`; a socket another process took since the stale check is an AdminSocketError. */
export async function listenOnSocket(server: NetServer, path: string): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    server.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new AdminSocketError(path, `another process took the admin socket ${path} while rollcall was starting`, { cause: error });
    throw error;
  }
}

/** Gives the bound socket mode 0660 and the readers' group; returns its inode for removeSocket. */
export async function secureSocket(path: string, policy: AccessPolicy, logger: Logger): Promise<number> {
  await chmod(path, 0o660);
  // The socket's group is the readers' group, so the kernel lets exactly them connect.
  if (policy.readersGid !== undefined) {
    await chown(path, -1, policy.readersGid).catch((error: NodeJS.ErrnoException) =>
      logger.warn({ socket: path, group: policy.readersGroup, err: error }, `could not give the admin socket to group ${policy.readersGroup} (${error.code}); it keeps the daemon's group`),
    );
  }
  return (await lstat(path)).ino;
}

/** Removes the socket at `path` if it is still the one with `inode`, never another daemon's. */
export async function removeSocket(path: string, inode: number | undefined, logger: Logger): Promise<void> {
  try {
    const stats = await lstat(path);
    if (stats.isSocket() && stats.ino === inode) await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn({ err: error, socket: path }, 'could not remove the admin socket');
  }
}
