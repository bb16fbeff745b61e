/**
 * Where the admin socket lives, decided the same way by the daemon (which binds it) and by
 * the client commands (which connect to it). The `admin` config keys that may name it are
 * part of the core config schema (daemon/config/schema.ts adminConfigTree).
 */
import { isAbsolute, resolve } from 'node:path';

export const SOCKET_FILE = 'rollcall.sock';
/** Without systemd's RuntimeDirectory, beside the default state directory (./var/lib/rollcall). */
export const FALLBACK_SOCKET = './var/run/rollcall.sock';
/** sun_path is 108 bytes on Linux, the last one a NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

/**
 * The socket path: the configured one (made absolute against `baseDir`), else the first
 * of systemd's $RUNTIME_DIRECTORY, else ./var/run/rollcall.sock against `baseDir`.
 */
export function adminSocketPath(options: { configured?: string; baseDir: string; env?: NodeJS.ProcessEnv }): string {
  if (options.configured) return resolve(options.baseDir, options.configured);
  const runtime = (options.env ?? process.env).RUNTIME_DIRECTORY?.split(':')[0];
  if (runtime && isAbsolute(runtime)) return resolve(runtime, SOCKET_FILE);
  return resolve(options.baseDir, FALLBACK_SOCKET);
}
