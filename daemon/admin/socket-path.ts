/**
 * Where the admin socket lives, decided the same way by the daemon (which binds it) and by
 * the client commands (which connect to it), and the `admin` config keys that say so.
 */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { ConfigTree } from '../config/schema.js';

export const SOCKET_FILE = 'rollcall.sock';
/** Without systemd's RuntimeDirectory, beside the default state directory (./var/lib/rollcall). */
export const FALLBACK_SOCKET = './var/run/rollcall.sock';
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** sun_path is 108 bytes on Linux, the last one a NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

/** The `admin` section of the config (the lead grafts it into the core tree). */
export function adminConfigTree(): ConfigTree {
  return {
    socket: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Path of the admin API\'s unix socket (mode 0660: members of the daemon\'s group may use the CLI). Default: $RUNTIME_DIRECTORY/rollcall.sock under systemd (RuntimeDirectory=rollcall), else ./var/run/rollcall.sock. Relative paths are read from the config file\'s directory.',
      )
      .meta({ requiresRestart: true, path: true }),
    maxMessageBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .max(256 * 1024 * 1024)
      .default(DEFAULT_MAX_MESSAGE_BYTES)
      .describe('Largest admin request the daemon accepts; a larger one is refused (RESOURCE_EXHAUSTED). Uploads are sent in small chunks, so this only bounds single requests (users set).')
      .meta({ requiresRestart: true }),
  };
}

export interface AdminConfig {
  socket?: string;
  maxMessageBytes: number;
}

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
