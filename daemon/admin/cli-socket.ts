/**
 * Which socket a client command talks to: --socket, else $ROLLCALL_SOCKET, else the config's
 * admin.socket (from --config FILE or the config found in the working directory), else the
 * daemon's own default (adminSocketPath). An operator's shell has no $RUNTIME_DIRECTORY, so
 * when nothing names a socket, systemd's usual /run/rollcall/rollcall.sock is tried as well.
 */
import { existsSync } from 'node:fs';
import { readConfig } from '../config/load.js';
import { adminSocketPath, SOCKET_FILE } from './socket-path.js';

export const SYSTEMD_SOCKET = `/run/rollcall/${SOCKET_FILE}`;

export interface SocketChoice {
  path: string;
  /** How the path was chosen, for error messages. */
  from: 'option' | 'env' | 'config' | 'default';
}

export async function clientSocket(options: { socket?: string; config?: string }, env: NodeJS.ProcessEnv, cwd: string): Promise<SocketChoice> {
  if (options.socket) return { path: adminSocketPath({ configured: options.socket, baseDir: cwd }), from: 'option' };
  if (env.ROLLCALL_SOCKET) return { path: adminSocketPath({ configured: env.ROLLCALL_SOCKET, baseDir: cwd }), from: 'env' };
  // Only admin.socket is read: the client does not need (or check) the rest of the config.
  const source = await readConfig({ ...(options.config ? { configPath: options.config } : {}), cwd });
  const configured = (source.raw as { admin?: { socket?: unknown } } | undefined)?.admin?.socket;
  if (typeof configured === 'string' && configured !== '') return { path: adminSocketPath({ configured, baseDir: source.baseDir }), from: 'config' };
  const fallback = adminSocketPath({ baseDir: source.baseDir, env });
  if (!existsSync(fallback) && existsSync(SYSTEMD_SOCKET)) return { path: SYSTEMD_SOCKET, from: 'default' };
  return { path: fallback, from: 'default' };
}
