/**
 * The `rollcall` command line. `run` is the daemon; `check-config` and `config-schema`
 * work on the config alone; `sim` is the gateway simulator; `store repair` mends the store's
 * files offline. Exit codes: daemon/exit-codes.ts.
 */
import { Command, CommanderError } from 'commander';
import { writeSync } from 'node:fs';
import { RollcallError, isRollcallError } from './errors.js';
import { createLogger } from './obs/logger.js';
import { SystemdNotifier } from './obs/sdnotify.js';
import { BUILTIN_PLUGINS } from './plugins/registry.js';
import { loadPluginPackages } from './plugins/loader.js';
import type { PluginDefinition } from './plugins/api.js';
import { configError, readConfig, validateConfig, type ConfigIssue, type ConfigSource } from './config/load.js';
import { configJsonSchema, type RollcallConfig } from './config/schema.js';
import { configReference } from './config/reference.js';
import { Daemon } from './daemon.js';
import type { DaemonSignal, SignalLatch } from './signals.js';
import { registerSimCommands } from '../simulator/cli.js';
import { registerAdminCommands } from './admin/cli.js';
import { registerStoreCommands } from './store-cli.js';
import { EXIT, startFailureExit } from './exit-codes.js';

export { EXIT } from './exit-codes.js';

/**
 * After a completed stop, how long the process may stay before it exits anyway. Everything
 * is closed by then; a handle still open is a leak, which is logged (with what it is)
 * rather than left to keep a stopped daemon alive.
 */
const LINGER_AFTER_STOP_MS = 1000;

/** Ends the process soon after a completed stop, with its exit code, whatever still holds the event loop. */
function exitSoon(logger: ReturnType<typeof createLogger>, code: number, deadline: number): void {
  const timer = setTimeout(() => {
    logger.warn({ code: 'ROLLCALL_ERR_SHUTDOWN_LINGER', resources: process.getActiveResourcesInfo() }, 'stopped, but something still held the process; exiting');
    logger.flush?.();
    process.exit(code);
  }, Math.max(0, Math.min(LINGER_AFTER_STOP_MS, deadline - Date.now())));
  timer.unref();
}

/** Built-ins plus the third-party packages the config names (read before validation). */
async function definitionsFor(raw: unknown, searchFrom: string[]): Promise<PluginDefinition[]> {
  const packages = (raw as { plugins?: { packages?: unknown } } | undefined)?.plugins?.packages;
  const names = Array.isArray(packages) ? packages.filter((p): p is string => typeof p === 'string' && /^(@[^/]+\/)?rollcall-plugin-/.test(p)) : [];
  return [...BUILTIN_PLUGINS, ...(await loadPluginPackages(names, searchFrom))];
}

function printIssues(file: string | undefined, issues: ConfigIssue[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ valid: false, file: file ?? null, issues })}\n`);
    return;
  }
  process.stderr.write(`${file ?? 'config'}: ${issues.length} problem(s)\n`);
  for (const issue of issues) process.stderr.write(`  ${issue.path}: ${issue.message}\n`);
}

async function checkConfig(options: { config?: string; json?: boolean }): Promise<number> {
  const json = options.json === true;
  try {
    const source = await readConfig({ configPath: options.config });
    const definitions = await definitionsFor(source.raw, [source.baseDir, process.cwd()]);
    const result = validateConfig(source, definitions);
    if (!result.ok) {
      printIssues(source.filepath, result.issues, json);
      return EXIT.CONFIG;
    }
    if (json) process.stdout.write(`${JSON.stringify({ valid: true, file: source.filepath ?? null, issues: [] })}\n`);
    else process.stdout.write(`${source.filepath ?? 'defaults'}: valid\n`);
    return EXIT.OK;
  } catch (error) {
    const issues = [{ path: '(file)', message: (error as Error).message }];
    printIssues(options.config, issues, json);
    return EXIT.CONFIG;
  }
}

/** The config read, with its plugins, and validated; on failure the problem is printed and EXIT.CONFIG returned. */
export async function loadValidConfig(configPath: string | undefined): Promise<{ source: ConfigSource; definitions: PluginDefinition[]; config: RollcallConfig } | number> {
  let source;
  let definitions: PluginDefinition[];
  try {
    source = await readConfig({ configPath });
    definitions = await definitionsFor(source.raw, [source.baseDir, process.cwd()]);
  } catch (error) {
    process.stderr.write(`rollcall: ${(error as Error).message}\n`);
    return EXIT.CONFIG;
  }
  const result = validateConfig(source, definitions);
  if (!result.ok) {
    process.stderr.write(`rollcall: ${configError(source, result.issues).message}\n`);
    return EXIT.CONFIG;
  }
  return { source, definitions, config: result.config };
}

async function run(options: { config?: string }, latch: SignalLatch): Promise<number> {
  const loaded = await loadValidConfig(options.config);
  if (typeof loaded === 'number') return loaded;
  const { source, definitions, config } = loaded;
  const logger = createLogger({ level: config.log.level });
  const notifier = new SystemdNotifier({ logger });
  let exitCode: number = EXIT.OK;
  let hardExit: NodeJS.Timeout | undefined;
  let deadline = Number.POSITIVE_INFINITY;
  let stopFor: ((why: DaemonSignal | 'fatal') => void) | undefined;
  // An error found after start that the daemon cannot run with: it stops with its exit code.
  const onFatal = (error: Error): void => {
    if (exitCode !== EXIT.OK) return;
    logger.fatal({ err: error, code: isRollcallError(error) ? error.code : undefined }, `stopping: ${error.message}`);
    exitCode = startFailureExit(error);
    stopFor?.('fatal');
  };
  const daemon = new Daemon({ loaded: { ...source, config }, definitions, logger, notifier, configPath: options.config, onFatal });
  const stopped = new Promise<void>((resolve) => {
    stopFor = (signal) => {
      if (signal === 'SIGHUP') {
        logger.info('SIGHUP: reloading the config');
        void daemon.reload();
        return;
      }
      if (daemon.state === 'stopping' || daemon.state === 'stopped') {
        if (signal !== 'fatal') logger.warn({ signal }, `${signal} received again: already stopping`);
        return;
      }
      if (signal !== 'fatal') logger.info({ signal }, `${signal}: stopping`);
      const timeoutMs = daemon.config.shutdown.timeoutMs;
      deadline = Date.now() + timeoutMs;
      hardExit = setTimeout(() => {
        logger.fatal({ timeoutMs, code: 'ROLLCALL_ERR_SHUTDOWN_TIMEOUT' }, `did not stop within ${timeoutMs} ms; exiting now`);
        logger.flush?.();
        process.exit(EXIT.FAILURE);
      }, timeoutMs);
      hardExit.unref();
      void daemon.stop(signal).finally(resolve);
    };
    latch.attach(stopFor);
  });

  try {
    // Raced with the stop: a start step that never returns must not keep a stopped daemon.
    await Promise.race([daemon.start(), stopped]);
  } catch (error) {
    if (daemon.state !== 'stopping' && daemon.state !== 'stopped') {
      logger.fatal({ err: error, code: isRollcallError(error) ? error.code : undefined }, `could not start: ${(error as Error).message}`);
      exitCode = startFailureExit(error);
      await daemon.stop('start failed');
      exitSoon(logger, exitCode, Date.now() + LINGER_AFTER_STOP_MS);
      return exitCode;
    }
  }
  await stopped;
  clearTimeout(hardExit);
  // The latch stays: a signal between the stop and the process's end is answered "already
  // stopping" instead of ending the process by the signal's default action (exit by SIGTERM,
  // not 0). Its listeners hold no handle open, so they do not delay the exit.
  exitSoon(logger, exitCode, deadline);
  return exitCode;
}

export function buildProgram(latch: SignalLatch, setExit: (code: number) => void): Command {
  const program = new Command('rollcall')
    .description('Keeps the users of an access-control site identical on every device.')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('run')
    .description('run the daemon in the foreground (under systemd, or in a terminal)')
    .option('-c, --config <file>', 'config file (default: searched from the working directory)')
    .action(async (options: { config?: string }) => setExit(await run(options, latch)));

  program
    .command('check-config')
    .description('validate the config and print every problem with its path (exit 78 when invalid)')
    .option('-c, --config <file>', 'config file (default: searched from the working directory)')
    .option('--json', 'print the result as JSON')
    .action(async (options: { config?: string; json?: boolean }) => setExit(await checkConfig(options)));

  program
    .command('config-schema')
    .description('print the JSON Schema of the config (for editors)')
    .option('-c, --config <file>', 'include the schemas of the third-party plugins this config loads')
    .option('--markdown', 'print the config reference table (as in README.md) instead')
    .action(async (options: { config?: string; markdown?: boolean }) => {
      const raw = options.config ? (await readConfig({ configPath: options.config })).raw : {};
      const definitions = await definitionsFor(raw, [process.cwd()]);
      process.stdout.write(options.markdown ? configReference(definitions) : `${JSON.stringify(configJsonSchema(definitions), null, 2)}\n`);
      setExit(EXIT.OK);
    });

  registerStoreCommands(program, { setExit, loadConfig: loadValidConfig });
  registerSimCommands(program);
  registerAdminCommands(program, { setExit });
  return program;
}

export async function main(argv: string[], latch: SignalLatch): Promise<number> {
  let code: number = EXIT.OK;
  const program = buildProgram(latch, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version are exits with code 0; usage errors are already printed.
      return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    const text = error instanceof RollcallError ? `${error.code}: ${error.message}` : (error as Error).stack ?? String(error);
    writeSync(2, `rollcall: ${text}\n`);
    return isRollcallError(error, 'ROLLCALL_ERR_CONFIG_INVALID') || isRollcallError(error, 'ROLLCALL_ERR_CONFIG_NOT_FOUND') ? EXIT.CONFIG : EXIT.FAILURE;
  }
  return code;
}
