/**
 * The datafile watcher: imports rollcall data files (.tgz, FORMAT.md) dropped into the
 * spool, and writes them for the host's exports. The host owns the drop folder, the
 * ledger, checkpoints, export names on disk and export schedules; this plugin reads a file
 * and hands its users on, and writes users to a stream.
 */
import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { ImportMergeOptions } from '../../../daemon/merge/import-merge.js';
import type { User } from '../../../daemon/model/user.js';
import type {
  HealthReport,
  IngestFile,
  IngestRecord,
  IngestSink,
  PluginContext,
  PluginDefinition,
  WatcherInstance,
} from '../../../daemon/plugins/api.js';
import { DATAFILE_PATTERNS, dataFileName } from './format.js';
import { readDataFile, verifyDataFile, type ReadOptions } from './reader.js';
import { configSchema, type DatafileConfig } from './schema.js';
import { writeDataFile } from './writer.js';

/** Columns of the error CSV the host writes beside a partly failed file. */
export const REPORT_COLUMNS = ['record', 'user_id'];

export class DatafileWatcher implements WatcherInstance {
  readonly patterns: string[] = [...DATAFILE_PATTERNS];
  readonly format = 'datafile';
  readonly #ctx: PluginContext;
  #config: DatafileConfig;

  constructor(ctx: PluginContext, config: DatafileConfig) {
    this.#ctx = ctx;
    this.#config = config;
  }

  /** A data file holds whole users, so nothing in it is a blank to clear or to keep. */
  get mergeOptions(): ImportMergeOptions {
    return { mode: this.#config.mode, blankClears: false };
  }

  reload(config: unknown): void {
    this.#config = configSchema.parse(config);
  }

  health(): HealthReport {
    return { ok: true };
  }

  #readOptions(signal: AbortSignal, skipRecords = 0): ReadOptions {
    return { siteTemplateFormat: this.#config.templateFormat, limits: this.#config.limits, skipRecords, signal };
  }

  async ingest(file: IngestFile, sink: IngestSink, signal: AbortSignal): Promise<void> {
    const config = this.#config;
    const logger = this.#ctx.logger;
    if (config.verifyFirst) {
      const manifest = await verifyDataFile(createReadStream(file.path), this.#readOptions(signal));
      logger.info(
        { file: file.name, users: manifest.userCount, members: manifest.members.length, templateFormat: manifest.templateFormat },
        'data file verified',
      );
    }
    sink.setHeader(REPORT_COLUMNS);
    let batch: IngestRecord[] = [];
    for await (const item of readDataFile(createReadStream(file.path), this.#readOptions(signal, sink.resumeFrom))) {
      switch (item.type) {
        case 'header':
          logger.info(
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
          // Rejections need no commit of their own; awaited, so the host's writes keep pace
          // (and a file past the host's reject limits ends here, refused).
          await sink.reject({ row: item.record, raw: [String(item.record), item.userId ?? ''], reason: item.reason });
          break;
        case 'manifest':
          break;
      }
    }
    if (batch.length > 0) await sink.accept(batch);
  }

  /**
   * Writes users as a data file in the site's template format and ends `out`. The host's
   * export (schedule, CLI, admin API) calls it; `exportDataFile` in writer.ts does the same
   * into a folder for callers without the host.
   */
  async exportUsers(users: AsyncIterable<User>, out: Writable, signal?: AbortSignal): Promise<{ users: number }> {
    const config = this.#config;
    const manifest = await writeDataFile(users, out, {
      templateFormat: config.templateFormat,
      membersUsers: config.membersUsers,
      ...(config.site === undefined ? {} : { site: config.site }),
      ...(signal === undefined ? {} : { signal }),
    });
    return { users: manifest.userCount };
  }

  /** PIN hashes and templates: the host writes exports 0600. */
  readonly exportHoldsSecrets = true;

  /** `rollcall_YYYYMMDD_HHMMSS.tgz`, in UTC. */
  exportName(now: Date): string {
    return dataFileName(now);
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
