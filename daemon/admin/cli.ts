/**
 * The client commands (`rollcall status`, `devices`, `sync`, `verify`, `plan`, `confirm`,
 * `users`, `import`, `export`, `events`, `log-level`): each talks to a running daemon over
 * the admin socket, prints readable text or, with --json, one stable JSON shape
 * (json-shapes.ts), and exits with a documented code (ADMIN_EXIT). One file a command or a
 * family of commands under commands/; what they share is in commands/client-commands.ts
 * (options, connection, streams) and commands/output.ts (output, failures, exit codes).
 */
import type { Command } from 'commander';
import { ClientCommands, defaultIo, type AdminCliIo } from './commands/client-commands.js';
import { registerEventCommands } from './commands/events.js';
import { registerFileCommands } from './commands/files.js';
import { registerLogLevelCommand } from './commands/log-level.js';
import { registerStatusCommands } from './commands/status.js';
import { registerSyncCommands } from './commands/sync.js';
import { registerUserCommands } from './commands/users.js';

export type { AdminCliIo } from './commands/client-commands.js';
export { ADMIN_EXIT, type OutStream } from './commands/output.js';

/** Adds the client commands to `program`, in the order `rollcall --help` lists them. */
export function registerAdminCommands(program: Command, overrides: Partial<AdminCliIo> = {}): void {
  const commands = new ClientCommands({ ...defaultIo(), ...overrides });
  registerStatusCommands(program, commands);
  registerSyncCommands(program, commands);
  registerUserCommands(program, commands);
  registerFileCommands(program, commands);
  registerEventCommands(program, commands);
  registerLogLevelCommand(program, commands);
}
