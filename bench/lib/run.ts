/**
 * What every benchmark's entry does: read the common flags, run, print the table, and
 * record the run in bench/results and bench/RESULTS.md.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { relative } from 'node:path';
import { machineInfo } from './machine.js';
import { benchSourceDir, repoRoot } from './paths.js';
import { recordRun, renderRun, type BenchRun, type Profile, type ResultRow } from './results.js';

export interface BenchOutcome {
  rows: ResultRow[];
  notes: string[];
  details?: unknown;
}

export interface BenchContext {
  profile: Profile;
  /** Flags beyond the common ones, as parsed. */
  values: Record<string, string | boolean | undefined>;
  /** Progress for the person watching (stderr, so stdout stays the table). */
  log(message: string): void;
}

export interface BenchDefinition {
  name: string;
  title: string;
  /** Flags of this benchmark (sizes and the like), as node:util parseArgs options. */
  options?: NonNullable<ParseArgsConfig['options']>;
  run(ctx: BenchContext): Promise<BenchOutcome>;
}

/** Parses argv, runs the benchmark, records and prints it. Exits non-zero if it threw. */
export async function main(definition: BenchDefinition, argv: string[] = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      'no-record': { type: 'boolean', default: false },
      ...definition.options,
    },
    allowPositionals: false,
  });
  const profile: Profile = values.quick ? 'quick' : 'full';
  const started = performance.now();
  const machine = machineInfo();
  const log = (message: string): void => {
    const at = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[${definition.name} ${at}s] ${message}\n`);
  };
  const outcome = await definition.run({ profile, values: values as BenchContext['values'], log });
  const script = relative(repoRoot, process.argv[1] ?? `dist/bench/${definition.name}.js`);
  const run: BenchRun = {
    name: definition.name,
    title: definition.title,
    profile,
    command: ['node', script, ...argv].join(' '),
    machine,
    durationSeconds: (performance.now() - started) / 1000,
    rows: outcome.rows,
    notes: outcome.notes,
    ...(outcome.details !== undefined ? { details: outcome.details } : {}),
  };
  process.stdout.write(`${renderRun(run)}\n`);
  if (!values['no-record']) {
    const file = await recordRun(run, { benchDir: benchSourceDir });
    log(`recorded in ${relative(repoRoot, file)} and bench/RESULTS.md`);
  }
}

/** Runs `main` when this module is the process's entry, and exits with its outcome. */
export function runIfMain(importMetaUrl: string, definition: BenchDefinition): void {
  if (!process.argv[1] || !importMetaUrl.endsWith(process.argv[1].replace(/\\/g, '/'))) return;
  main(definition).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${definition.name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
