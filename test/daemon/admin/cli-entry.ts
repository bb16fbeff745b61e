/**
 * The client commands as their own program, for tests that run them as child processes
 * while daemon/cli.ts does not list them yet. It does what daemon/main.ts does for them:
 * commander errors are usage (64), the command sets the exit code.
 */
import { Command, CommanderError } from 'commander';
import { registerAdminCommands } from '../../../daemon/admin/cli.js';

let code = 0;
const program = new Command('rollcall').exitOverride().showHelpAfterError();
registerAdminCommands(program, {
  setExit: (c) => {
    code = c;
  },
});
try {
  await program.parseAsync(process.argv);
} catch (error) {
  code = error instanceof CommanderError ? (error.exitCode === 0 ? 0 : 64) : 1;
  if (!(error instanceof CommanderError)) process.stderr.write(`rollcall: ${(error as Error).stack ?? String(error)}\n`);
}
process.exitCode = code;
