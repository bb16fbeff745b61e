/**
 * `rollcall log-level LEVEL`: the daemon's log level, until the next reload or restart.
 */
import type { Command } from 'commander';
import type { ClientCommands, ClientOptions } from './client-commands.js';
import { ADMIN_EXIT } from './output.js';

export function registerLogLevelCommand(program: Command, commands: ClientCommands): void {
  commands.define(program, 'log-level', 'change the daemon\'s log level until the next reload or restart')
    .argument('<level>', 'fatal, error, warn, info, debug, trace or silent')
    .action((level: string, options: ClientOptions) =>
      commands.withDaemon(options, async (c, out) => {
        const response = await c.unary('SetLogLevel', c.client.setLogLevel, { level });
        const json = { level: response.level, previous: response.previous };
        out.result(json, () => `log level: ${json.level} (was ${json.previous}), until the next reload or restart`);
        return ADMIN_EXIT.OK;
      }),
    );
}
