/**
 * Results: each run of a benchmark is written to bench/results/<name>.json (one entry per
 * profile, full or quick, the newer replacing the older), and bench/RESULTS.md is made
 * again from every such file, so the markdown always shows the latest run of each.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeMachine, type MachineInfo } from './machine.js';
import { round } from './stats.js';

export type Profile = 'full' | 'quick';

export interface Budget {
  /** As the issue states it, e.g. "≤ 1.5× floor". */
  text: string;
  pass: boolean;
}

/** A value with its unit; units are s, ms, B, rows/s, % (of one core). */
export interface Quantity {
  value: number;
  unit: string;
}

export interface ResultRow {
  figure: string;
  measured: Quantity;
  baseline?: Quantity & { label: string };
  /** Measured cost over baseline cost (> 1: slower or bigger than the baseline). */
  ratio?: number;
  budget?: Budget;
}

export interface BenchRun {
  name: string;
  title: string;
  profile: Profile;
  /** The command that produced it. */
  command: string;
  machine: MachineInfo;
  durationSeconds: number;
  rows: ResultRow[];
  /** How it was measured, what the figures mean, anything odd seen. */
  notes: string[];
  /** Raw measurements, for whoever wants more than the table. */
  details?: unknown;
}

type ResultFile = Partial<Record<Profile, BenchRun>>;

const ORDER = ['import', 'import-postgres', 'fanout', 'latency', 'reconcile', 'idle', 'wire-size', 'pg-commits', 'failover'];

export function formatQuantity(q: Quantity): string {
  const { value, unit } = q;
  if (unit === 'B') {
    if (value >= 2 ** 20) return `${round(value / 2 ** 20)} MiB`;
    if (value >= 2 ** 10) return `${round(value / 2 ** 10)} KiB`;
    return `${value} B`;
  }
  if (unit === 's' && value < 1) return `${round(value * 1000)} ms`;
  const text = round(value).toLocaleString('en-US', { maximumFractionDigits: 3 });
  return unit === '%' ? `${text} %` : `${text} ${unit}`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderRun(run: BenchRun): string {
  const lines: string[] = [];
  lines.push(`### ${run.title}${run.profile === 'quick' ? ' (quick: reduced sizes)' : ''}`);
  lines.push('');
  lines.push(`\`${run.command}\` — ${run.machine.date.slice(0, 16).replace('T', ' ')} UTC — ${describeMachine(run.machine)} — took ${formatQuantity({ value: run.durationSeconds, unit: 's' })}`);
  lines.push('');
  lines.push('| figure | measured | baseline (same run) | ratio | budget | result |');
  lines.push('|---|---|---|---|---|---|');
  for (const row of run.rows) {
    const baseline = row.baseline ? `${formatQuantity(row.baseline)} (${row.baseline.label})` : '';
    const ratio = row.ratio === undefined ? '' : `${round(row.ratio)}×`;
    const budget = row.budget?.text ?? '';
    const result = row.budget ? (row.budget.pass ? 'pass' : '**miss**') : '';
    lines.push(`| ${cell(row.figure)} | ${cell(formatQuantity(row.measured))} | ${cell(baseline)} | ${ratio} | ${cell(budget)} | ${result} |`);
  }
  if (run.notes.length > 0) {
    lines.push('');
    for (const note of run.notes) lines.push(`- ${note}`);
  }
  return lines.join('\n');
}

function verdict(run: BenchRun): string {
  const judged = run.rows.filter((r) => r.budget);
  const missed = judged.filter((r) => !r.budget!.pass);
  return missed.length === 0 ? `${judged.length}/${judged.length} pass` : `${judged.length - missed.length}/${judged.length} pass; missed: ${missed.map((r) => r.figure).join('; ')}`;
}

/** The whole RESULTS.md from every run there is; `extra` (hand-written analysis) goes last. */
export function renderResults(runs: readonly BenchRun[], extra?: string): string {
  const rank = (name: string): number => {
    const i = ORDER.indexOf(name);
    return i < 0 ? ORDER.length : i;
  };
  const sorted = [...runs].sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
  const full = sorted.filter((r) => r.profile === 'full');
  const quick = sorted.filter((r) => r.profile === 'quick');
  const out: string[] = [];
  out.push('# Benchmark results');
  out.push('');
  out.push('Written by the benchmarks (`npm run bench`, see [README.md](README.md)) from `bench/results/*.json`; edits here are lost on the next run.');
  out.push('Every figure has a baseline measured in the same run, and the ratio (measured cost ÷ baseline cost) is the result.');
  out.push('');
  if (sorted.length > 0) {
    out.push('| benchmark | profile | date (UTC) | budgets |');
    out.push('|---|---|---|---|');
    for (const run of [...full, ...quick]) out.push(`| ${run.title} | ${run.profile} | ${run.machine.date.slice(0, 10)} | ${cell(verdict(run))} |`);
    out.push('');
  }
  if (full.length > 0) {
    out.push('## Full sizes');
    out.push('');
    for (const run of full) out.push(renderRun(run), '');
  }
  if (quick.length > 0) {
    out.push('## Quick runs (reduced sizes, a smoke check, not the figures of record)');
    out.push('');
    for (const run of quick) out.push(renderRun(run), '');
  }
  if (extra && extra.trim() !== '') out.push(extra.trim(), '');
  return out.join('\n');
}

export interface ResultsLocation {
  /** bench/ in the source tree. */
  benchDir: string;
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, text);
  await rename(temp, path);
}

/** Stores `run` as the latest of its name and profile, then writes RESULTS.md again. */
export async function recordRun(run: BenchRun, where: ResultsLocation): Promise<string> {
  const dir = join(where.benchDir, 'results');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${run.name}.json`);
  let existing: ResultFile = {};
  try {
    existing = JSON.parse(await readFile(file, 'utf8')) as ResultFile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  existing[run.profile] = run;
  await writeAtomically(file, `${JSON.stringify(existing, null, 2)}\n`);
  await writeResultsMarkdown(where);
  return file;
}

/** Makes bench/RESULTS.md from bench/results/*.json and the hand-written bench/results/analysis.md. */
export async function writeResultsMarkdown(where: ResultsLocation): Promise<void> {
  const dir = join(where.benchDir, 'results');
  const runs: BenchRun[] = [];
  for (const entry of (await readdir(dir)).sort()) {
    if (!entry.endsWith('.json')) continue;
    const stored = JSON.parse(await readFile(join(dir, entry), 'utf8')) as ResultFile;
    for (const profile of ['full', 'quick'] as const) {
      const run = stored[profile];
      if (run) runs.push(run);
    }
  }
  let extra: string | undefined;
  try {
    extra = await readFile(join(dir, 'analysis.md'), 'utf8');
  } catch {
    extra = undefined;
  }
  await writeAtomically(join(where.benchDir, 'RESULTS.md'), renderResults(runs, extra));
}
