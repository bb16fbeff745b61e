/**
 * The datafile watcher: imports rollcall data files (.tgz, FORMAT.md) dropped into the
 * spool, and exports every user to one on a daily schedule. The host owns the drop
 * folder, the ledger and checkpoints; this plugin reads a file and hands its users on.
 */
import { createReadStream } from 'node:fs';
import type { Logger } from 'pino';
import type {
  HealthReport,
  IngestFile,
  IngestRecord,
  IngestSink,
  PluginContext,
  PluginDefinition,
  WatcherInstance,
} from '../../../daemon/plugins/api.js';
import { RollcallError } from '../../../daemon/errors.js';
import { DATAFILE_PATTERNS } from './format.js';
import { readDataFile, verifyDataFile, type ReadOptions } from './reader.js';
import { nextExportAt } from './schedule.js';
import { configSchema, type DatafileConfig } from './schema.js';
import { exportDataFile } from './writer.js';

/** Columns of the error CSV the host writes beside a partly failed file. */
export const REPORT_COLUMNS = ['record', 'user_id'];

export class DatafileWatcher implements WatcherInstance {
  readonly patterns: string[] = [...DATAFILE_PATTERNS];
  readonly format = 'datafile';
  readonly #ctx: PluginContext;
  #config: DatafileConfig;
  #timer: NodeJS.Timeout | undefined;
  #running: { controller: AbortController; done: Promise<void> } | undefined;
  #lastExport: { at: Date; path?: string; error?: string } | undefined;
  #stopped = false;

  constructor(ctx: PluginContext, config: DatafileConfig) {
    this.#ctx = ctx;
    this.#config = config;
  }

  get #logger(): Logger {
    return this.#ctx.logger;
  }

  async start(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#stopped = false;
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const running = this.#running;
    if (running) {
      running.controller.abort(new Error('the datafile watcher is stopping'));
      await running.done;
    }
  }

  reload(config: unknown): void {
    this.#config = configSchema.parse(config);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#stopped) this.#schedule();
  }

  health(): HealthReport {
    const last = this.#lastExport;
    if (!last) return { ok: true };
    // A failed export is reported but does not make the daemon unready: imports and syncing go on.
    return {
      ok: true,
      detail: last.error
        ? `last export failed at ${last.at.toISOString()}: ${last.error}`
        : `last export ${last.path} at ${last.at.toISOString()}`,
    };
  }

  #readOptions(signal: AbortSignal, skipRecords = 0): ReadOptions {
    return { siteTemplateFormat: this.#config.templateFormat, limits: this.#config.limits, skipRecords, signal };
  }

  async ingest(file: IngestFile, sink: IngestSink, signal: AbortSignal): Promise<void> {
    const config = this.#config;
    if (config.verifyFirst) {
      const manifest = await verifyDataFile(createReadStream(file.path), this.#readOptions(signal));
      this.#logger.info(
        { file: file.name, users: manifest.userCount, members: manifest.members.length, templateFormat: manifest.templateFormat },
        'data file verified',
      );
    }
    sink.setHeader(REPORT_COLUMNS);
    let batch: IngestRecord[] = [];
    for await (const item of readDataFile(createReadStream(file.path), this.#readOptions(signal, sink.resumeFrom))) {
      switch (item.type) {
        case 'header':
          this.#logger.info(
            { file: file.name, createdAt: item.header.createdAt, source: item.header.source, resumeFrom: sink.resumeFrom },
            'reading data file',
          );
          break;
        case 'user': {
          const { id, ...values } = item.user;
          batch.push({ row: item.record, patch: { id, values, blank: [] }, raw: [String(item.record), id] });
          if (batch.length >= config.batchSize) {
            await sink.accept(batch);
            batch = [];
          }
          break;
        }
        case 'invalid':
          // Rejections need no commit of their own: the report takes them as they come.
          sink.reject({ row: item.record, raw: [String(item.record), item.userId ?? ''], reason: item.reason });
          break;
        case 'manifest':
          break;
      }
    }
    if (batch.length > 0) await sink.accept(batch);
  }

  /** Exports every user of the store to `export.dir` now; returns the file's path. */
  async exportNow(signal?: AbortSignal): Promise<string> {
    const store = this.#ctx.store;
    if (!store) throw new RollcallError('ROLLCALL_ERR_PLUGIN_FAILED', 'the datafile watcher has no store to export from');
    const dir = this.#config.export.dir;
    if (!dir) throw new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', 'watchers.datafile.export.dir is not set');
    const started = Date.now();
    const { path, manifest } = await exportDataFile(store.scanUsers(), dir, {
      templateFormat: this.#config.templateFormat,
      membersUsers: this.#config.membersUsers,
      ...(this.#config.site === undefined ? {} : { site: this.#config.site }),
      ...(signal === undefined ? {} : { signal }),
    });
    this.#logger.info({ path, users: manifest.userCount, ms: Date.now() - started }, 'data file exported');
    return path;
  }

  #schedule(): void {
    const times = this.#config.export.schedule;
    if (times.length === 0) return;
    const now = new Date();
    const at = nextExportAt(now, times);
    this.#timer = setTimeout(() => this.#runScheduled(), at.getTime() - now.getTime());
    // The daemon's lifetime is not this timer's business.
    this.#timer.unref();
    this.#logger.debug({ at: at.toISOString() }, 'next scheduled data-file export');
  }

  #runScheduled(): void {
    this.#timer = undefined;
    if (this.#running) {
      this.#schedule();
      return;
    }
    const controller = new AbortController();
    const done = this.exportNow(controller.signal).then(
      (path) => {
        this.#lastExport = { at: new Date(), path };
      },
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        this.#lastExport = { at: new Date(), error: message };
        this.#logger.error({ err: error }, 'scheduled data-file export failed');
      },
    );
    this.#running = {
      controller,
      done: done.finally(() => {
        this.#running = undefined;
        if (!this.#stopped) this.#schedule();
      }),
    };
  }
}

const definition: PluginDefinition<DatafileConfig, DatafileWatcher> = {
  kind: 'watcher',
  name: 'datafile',
  description: 'Imports and exports users as rollcall data files (.tgz with a manifest; streamed, with archive defences)',
  configSchema,
  create: (ctx, config) => new DatafileWatcher(ctx, config),
};

export default definition;
