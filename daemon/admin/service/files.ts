/**
 * Files through the drop folder: Import (an upload, imported as a dropped file would be) and
 * Export (left in outgoing/, or downloaded).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { once } from 'node:events';
import type { ImportReport as DropReport } from '../../ingest/types.js';
import type { ExportRequest, ExportUpdate, ImportReport, ImportStart, ImportUpdate, Progress } from '../../../proto/gen/rollcall/admin/v1/admin.js';
import { invalidField, type AdminRequestError } from '../request-error.js';
import * as check from '../requests.js';
import type { Emit, RequestContext } from './context.js';

/** Bytes per chunk of a download; well under any message limit. */
const CHUNK_BYTES = 256 * 1024;
/** Progress messages are sent at most this often. */
const PROGRESS_EVERY_MS = 100;

/** Sends progress at most every PROGRESS_EVERY_MS, and always the last one when asked. */
class ProgressThrottle {
  #last = 0;
  #emit: Emit<Progress>;
  constructor(emit: Emit<Progress>) {
    this.#emit = emit;
  }
  async send(progress: Progress, force = false): Promise<void> {
    const now = Date.now();
    if (!force && now - this.#last < PROGRESS_EVERY_MS) return;
    this.#last = now;
    await this.#emit(progress);
  }
}

function reportMessage(r: DropReport): ImportReport {
  return {
    file: r.file,
    format: r.format,
    hash: r.hash,
    state: r.state,
    imported: r.rows.imported,
    unchanged: r.rows.unchanged,
    failed: r.rows.failed,
    reason: r.reason ?? '',
    notes: [...r.notes],
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    durationMs: r.durationMs,
    path: r.path ?? '',
    errorsCsv: r.errorsCsv ?? '',
    reportJson: r.reportJson ?? '',
  };
}

/** An upload past `admin.maxUploadBytes`: refused with the limit named. */
function uploadTooLarge(size: number, limit: number, atLeast = ''): AdminRequestError {
  return invalidField('size', 'max', `the upload is ${atLeast}${size} bytes, more than admin.maxUploadBytes (${limit} bytes); raise it in the config or drop the file into the spool's incoming/`);
}

export class FileService {
  readonly #c: RequestContext;

  constructor(context: RequestContext) {
    this.#c = context;
  }

  /**
   * Writes the upload into the staging folder under its own name (the name picks the watcher
   * and names the reports), then imports it through the drop folder. The upload is removed
   * afterwards: the drop folder has its own copy in incoming/ → done/ or failed/.
   */
  async import(start: ImportStart, chunks: AsyncIterable<Buffer>, emit: Emit<ImportUpdate>, signal: AbortSignal): Promise<void> {
    const name = check.fileName(start.name);
    const limit = this.#c.maxUploadBytes;
    if (start.size > limit) throw uploadTooLarge(start.size, limit);
    const folder = this.#c.dropFolder();
    await mkdir(this.#c.backend.stagingDir, { recursive: true, mode: 0o750 });
    const dir = await mkdtemp(join(this.#c.backend.stagingDir, 'import-'));
    const progress = new ProgressThrottle((value) => emit({ update: { $case: 'progress', value } }));
    try {
      const path = join(dir, name);
      const out = createWriteStream(path, { mode: 0o640 });
      let received = 0;
      try {
        for await (const chunk of chunks) {
          // Counted before it is written: an upload past the limit never lands whole.
          if (received + chunk.length > limit) throw uploadTooLarge(received + chunk.length, limit, 'at least ');
          if (!out.write(chunk)) await once(out, 'drain', { signal });
          received += chunk.length;
          await progress.send({ phase: 'upload', done: received, total: start.size, unit: 'bytes' });
        }
      } finally {
        out.end();
        await once(out, 'close').catch(() => undefined);
      }
      if (signal.aborted) return;
      await progress.send({ phase: 'upload', done: received, total: start.size, unit: 'bytes' }, true);
      const pending: Promise<void>[] = [];
      const report = await folder.importFile(path, {
        signal,
        // Records handled so far; the drop folder does not know a file's record count in advance.
        onProgress: (p) => {
          pending.push(progress.send({ phase: 'import', done: p.handled, total: 0, unit: 'rows' }).catch(() => undefined));
        },
      });
      await Promise.all(pending);
      await emit({ update: { $case: 'report', value: reportMessage(report) } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Exports into outgoing/, or with `download` into the staging folder, streamed back and
   * removed. The drop folder reports no progress while it writes; the download does.
   */
  async export(request: ExportRequest, emit: Emit<ExportUpdate>, signal: AbortSignal): Promise<void> {
    const format = check.exportFormat(request.format);
    const folder = this.#c.dropFolder();
    if (!request.download) {
      const result = await folder.exportUsers(format, { signal });
      const { size } = await stat(result.path);
      await emit({ update: { $case: 'result', value: { format: result.format, path: result.path, users: result.users, bytes: size } } });
      return;
    }
    await mkdir(this.#c.backend.stagingDir, { recursive: true, mode: 0o750 });
    const dir = await mkdtemp(join(this.#c.backend.stagingDir, 'export-'));
    try {
      const result = await folder.exportUsers(format, { out: dir, signal });
      const { size } = await stat(result.path);
      await emit({ update: { $case: 'result', value: { format: result.format, path: basename(result.path), users: result.users, bytes: size } } });
      const input = createReadStream(result.path, { highWaterMark: CHUNK_BYTES });
      try {
        for await (const chunk of input as AsyncIterable<Buffer>) await emit({ update: { $case: 'chunk', value: chunk } });
      } finally {
        input.destroy();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
