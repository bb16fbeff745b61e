/**
 * `rollcall store repair`: mends the store's files offline, with the daemon stopped. The
 * storage plugin does the work (`PluginDefinition.repair`); this is the command around it.
 * Exit 0 when the store is whole afterwards, 65 while damage remains, 78 on a bad config.
 */
import type { Command } from 'commander';
import { pino } from 'pino';
import { configKeyOf, type RollcallConfig } from './config/schema.js';
import { configAt } from './daemon.js';
import { isRollcallError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { pluginDataDir } from './plugins/host.js';
import type { PluginDefinition } from './plugins/api.js';

export interface StoreCommandOptions {
  setExit(code: number): void;
  /** The validated config, or the exit code after printing why it is not. */
  loadConfig(configPath: string | undefined): Promise<{ definitions: PluginDefinition[]; config: RollcallConfig } | number>;
}

async function repair(options: { config?: string; dropCorrupt?: boolean; json?: boolean }, o: StoreCommandOptions): Promise<number> {
  const loaded = await o.loadConfig(options.config);
  if (typeof loaded === 'number') return loaded;
  const { config, definitions } = loaded;
  const storage = definitions.find((d) => d.kind === 'storage' && d.name === config.storage.backend);
  if (!storage?.repair) {
    process.stdout.write(`storage/${config.storage.backend} keeps no files rollcall can repair: nothing to do\n`);
    return EXIT.OK;
  }
  try {
    const report = await storage.repair(
      { dataDir: pluginDataDir(config.dataDir, storage), logger: pino({ level: 'silent' }) },
      configAt(config, configKeyOf(storage)),
      { dropCorrupt: options.dropCorrupt === true },
    );
    if (options.json) process.stdout.write(`${JSON.stringify({ ok: report.ok, ...report.detail })}\n`);
    else for (const line of report.lines) process.stdout.write(`${line}\n`);
    return report.ok ? EXIT.OK : EXIT.DATA;
  } catch (error) {
    const code = isRollcallError(error) ? `${error.code}: ` : '';
    process.stderr.write(`rollcall: store repair failed: ${code}${(error as Error).message}\n`);
    return EXIT.FAILURE;
  }
}

export function registerStoreCommands(program: Command, o: StoreCommandOptions): void {
  const store = program.command('store').description('work on the store\'s files directly (the daemon must be stopped)');
  store
    .command('repair')
    .description('repair the store after a crash or disk damage (LevelDB repair, checksum check, counters); exit 65 while damage remains')
    .option('-c, --config <file>', 'config file (default: searched from the working directory)')
    .option('--drop-corrupt', 'delete records whose checksum is broken (each is listed; a dropped user leaves the devices at the next check)')
    .option('--json', 'print the result as JSON')
    .action(async (options: { config?: string; dropCorrupt?: boolean; json?: boolean }) => o.setExit(await repair(options, o)));
}
