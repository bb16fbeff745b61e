/**
 * `rollcall import FILE` and `rollcall export`: a file uploaded and imported through the drop
 * folder (exit 1 when refused, 2 when rows failed), and every user exported, left in outgoing/
 * or downloaded with --out (written under a temporary name, then renamed).
 */
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { access, rename, rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { once } from 'node:events';
import type { Command } from 'commander';
import type { ExportResult, ImportReport } from '../../../proto/gen/rollcall/admin/v1/admin.js';
import { exportJson, importJson } from '../json-shapes.js';
import { renderExport, renderImport } from '../render.js';
import type { ClientCommands, ClientOptions } from './client-commands.js';
import { ADMIN_EXIT, InputError } from './output.js';

export function registerFileCommands(program: Command, commands: ClientCommands): void {
  commands.define(program, 'import', 'import a CSV or data file through the drop folder (exit 1 when refused, 2 when rows failed)')
    .argument('<file>', 'the file (*.csv, *.tgz); uploaded to the daemon, so it may be anywhere this user can read')
    .action((file: string, options: ClientOptions) =>
      commands.withDaemon(options, async (c, out) => {
        const path = resolve(commands.io.cwd, file);
        let size: number;
        try {
          const stats = await stat(path);
          if (!stats.isFile()) throw new Error('not a regular file');
          await access(path, constants.R_OK);
          size = stats.size;
        } catch (error) {
          throw new InputError(`cannot read ${file}: ${(error as Error).message}`);
        }
        const input = createReadStream(path, { highWaterMark: 256 * 1024 });
        input.on('error', () => undefined);
        const stream = c.importStream({ name: basename(path), size }, input as AsyncIterable<Buffer>);
        let report: ImportReport | undefined;
        const finished = await commands.drain(stream, (update) => {
          const u = update.update;
          if (u?.$case === 'progress') out.progress.update(u.value);
          else if (u?.$case === 'report') report = u.value;
        });
        input.destroy();
        if (!finished) {
          out.note('interrupted; the daemon stops the import at its last checkpoint');
          return ADMIN_EXIT.INTERRUPTED;
        }
        if (!report) throw new Error('the daemon ended the import without a report');
        const json = importJson(report);
        out.result(json, () => renderImport(json));
        if (report.state === 'failed') return ADMIN_EXIT.FAILURE;
        return report.failed > 0 ? ADMIN_EXIT.DIFFERENCES : ADMIN_EXIT.OK;
      }),
    );

  commands.define(program, 'export', 'export every user as CSV or a data file (to the spool\'s outgoing/, or --out)')
    .requiredOption('--format <format>', 'csv or datafile')
    .option('-o, --out <file>', 'write the file here (a folder keeps the daemon\'s file name) instead of leaving it in outgoing/')
    .action((options: ClientOptions & { format: string; out?: string }) =>
      commands.withDaemon(options, async (c, out) => {
        const download = options.out !== undefined;
        const stream = c.stream('Export', c.client.export, { format: options.format, download });
        let result: ExportResult | undefined;
        let target: string | undefined;
        let partial: string | undefined;
        let writer: ReturnType<typeof createWriteStream> | undefined;
        let received = 0;
        try {
          const finished = await commands.drain(stream, async (update) => {
            const u = update.update;
            if (u?.$case === 'progress') out.progress.update(u.value);
            else if (u?.$case === 'result') {
              result = u.value;
              if (download) {
                const wanted = resolve(commands.io.cwd, options.out!);
                const isDir = await stat(wanted).then((s) => s.isDirectory(), () => false);
                target = isDir ? join(wanted, basename(result.path)) : wanted;
                partial = `${target}.partial-${process.pid}`;
                // 0600 whatever the format: a data file holds PIN hashes and templates.
                writer = createWriteStream(partial, { flags: 'wx', mode: 0o600 });
              }
            } else if (u?.$case === 'chunk' && writer) {
              received += u.value.length;
              if (!writer.write(u.value)) await once(writer, 'drain');
              out.progress.update({ phase: 'download', done: received, total: result?.bytes ?? 0, unit: 'bytes' });
            }
          });
          if (!finished) {
            out.note('interrupted');
            return ADMIN_EXIT.INTERRUPTED;
          }
          if (!result) throw new Error('the daemon ended the export without a result');
          if (writer && partial && target) {
            writer.end();
            await once(writer, 'close');
            writer = undefined;
            if (received !== result.bytes) throw new Error(`the download ended after ${received} of ${result.bytes} bytes; nothing was written to ${target}`);
            await rename(partial, target);
            partial = undefined;
          }
        } finally {
          if (writer) {
            writer.destroy();
          }
          if (partial) await rm(partial, { force: true });
        }
        const file = target ?? result.path;
        const json = exportJson(result, file, download ? 'local' : 'daemon');
        out.result(json, () => renderExport(result!.format, result!.users, result!.bytes, file, download ? 'local' : 'daemon'));
        return ADMIN_EXIT.OK;
      }),
    );
}
