import type { Command } from 'commander';
import { registerDeviceCommands } from './cli/device-commands.js';
import { deviceId, integer } from './cli/option-values.js';
import { STDOUT, type SimCommandOutput } from './cli/output.js';
import { runStandalone, type StandaloneOptions } from './cli/standalone.js';
import { registerUserCommands } from './cli/user-commands.js';

/**
 * `rollcall sim`: run a standalone simulator, or drive a running one through its control
 * service (rollcall.sim.v1.Control) as a person at a device would. The parts are in cli/:
 * the standalone run, the user and the device subcommands, and what they share.
 */

export type { SimCommandOutput } from './cli/output.js';

/** Adds `sim` and its subcommands to the rollcall command line. */
export function registerSimCommands(program: Command, out: SimCommandOutput = STDOUT): void {
  const sim = program
    .command('sim')
    .description('G-SDK device gateway simulator: run one (default), or act on a running one')
    // With positional options on the root too, `sim --json` and `sim dump --json` stay apart.
    .enablePositionalOptions()
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--port <port>', 'port to listen on; 0 picks a free one (default 4000)', integer('--port', 0, 65535))
    .option('--devices <n>', 'number of virtual devices (default 3)', integer('--devices', 1, 100_000))
    .option('--first-id <id>', 'device ID of the first device (default 1001)', deviceId)
    .option('--config <file>', 'simulator config, YAML or JSON (see simulator/README.md)')
    .option('--tls-cert <file>', 'serve TLS with this server certificate (PEM)')
    .option('--tls-key <file>', 'private key of --tls-cert (PEM)')
    .option('--json', 'print the address and device IDs as JSON')
    .action(async (options: StandaloneOptions) => runStandalone(options, out));

  registerUserCommands(sim, out);
  registerDeviceCommands(sim, out);
}
