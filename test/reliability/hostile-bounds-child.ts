/**
 * One hostile file through the real drop folder (LevelDB store, spool, CSV and datafile
 * watchers) in a process of its own, so its memory is its own: prints one JSON line with
 * the peak RSS, the bytes the process wrote (/proc/self/io wchar), the largest the
 * rejection journal grew, the size of the error CSV and the report.
 *
 *   node dist/test/reliability/hostile-bounds-child.js one-cell-csv|empty-lines-datafile
 *
 * The two files are the audit's (issue 15, item 5): a 4 MB CSV of 2,000,000 one-cell
 * rows, and a data file of ~200 KB whose members are millions of empty lines.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SpoolHarness } from '../helpers/ingest-spool.js';
import { headerJson, manifestJson, tarEntry, tgz, type MemberText } from '../plugins/watchers/datafile/corpus.js';

export type HostileKind = 'one-cell-csv' | 'empty-lines-datafile';

export interface HostileFigures {
  kind: HostileKind;
  fileBytes: number;
  baselineRssBytes: number;
  peakRssBytes: number;
  writtenBytes: number;
  journalPeakBytes: number;
  errorsCsvBytes: number;
  state: string;
  reason?: string;
  rows: { imported: number; unchanged: number; failed: number };
  notes: string[];
}

/** 2,000,000 rows of one cell under a two-column header: every row is a row error. */
function oneCellCsv(): { name: string; bytes: Buffer } {
  const rows = 2_000_000;
  return { name: 'one-cell.csv', bytes: Buffer.concat([Buffer.from('user_id,name\n'), Buffer.alloc(rows * 2, '1\n')]) };
}

/**
 * Empty lines are records (each one invalid). gzip packs them ~1,000:1, past the reader's
 * ratio cap, so a member of random bytes comes first and keeps the ratio under it, as a
 * hostile writer would.
 */
function emptyLinesDatafile(): { name: string; bytes: Buffer } {
  const members: MemberText[] = [
    { name: 'users-00001.jsonl', body: Buffer.concat([randomBytes(150 * 1024), Buffer.from('\n')]) },
    { name: 'users-00002.jsonl', body: Buffer.alloc(6_000_000, '\n') },
  ];
  const entries = [tarEntry({ name: 'header.json', body: headerJson() }), ...members.map((m) => tarEntry({ name: m.name, body: m.body })), tarEntry({ name: 'manifest.json', body: manifestJson(members) })];
  return { name: 'rollcall_20250102_030405.tgz', bytes: tgz(entries) };
}

export function hostileFile(kind: HostileKind): { name: string; bytes: Buffer } {
  return kind === 'one-cell-csv' ? oneCellCsv() : emptyLinesDatafile();
}

function writtenSoFar(): number {
  const match = /^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
  return Number(match?.[1] ?? 0);
}

async function journalBytes(processing: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(processing).catch(() => [] as string[])) {
    if (name.endsWith('.rejects.jsonl')) total += await stat(join(processing, name)).then((s) => s.size, () => 0);
  }
  return total;
}

async function main(kind: HostileKind): Promise<void> {
  const file = hostileFile(kind);
  const h = await SpoolHarness.start({ stableMs: 50, datafile: {} });
  try {
    const baselineRssBytes = process.memoryUsage().rss;
    const writtenBefore = writtenSoFar();
    let journalPeakBytes = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        journalPeakBytes = Math.max(journalPeakBytes, await journalBytes(h.path('processing')));
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    await h.drop(file.name, file.bytes);
    const [report] = await h.reportsAtLeast(1, 600_000);
    sampling = false;
    await sampler;
    const figures: HostileFigures = {
      kind,
      fileBytes: file.bytes.length,
      baselineRssBytes,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      writtenBytes: writtenSoFar() - writtenBefore,
      journalPeakBytes,
      errorsCsvBytes: report!.errorsCsv ? (await stat(h.path(report!.errorsCsv))).size : 0,
      state: report!.state,
      ...(report!.reason ? { reason: report!.reason } : {}),
      rows: report!.rows,
      notes: report!.notes,
    };
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await h.stop();
  }
}

const kind = process.argv[2];
if (kind === 'one-cell-csv' || kind === 'empty-lines-datafile') {
  await main(kind);
} else if (kind !== undefined) {
  process.stderr.write('usage: hostile-bounds-child.js one-cell-csv|empty-lines-datafile\n');
  process.exit(64);
}
