/**
 * Prints the heaviest functions of a V8 CPU profile, to find what to fix after a
 * benchmark missed its budget:
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof dist/bench/fanout.js --no-record ...
 *   node dist/bench/profile.js /tmp/prof/CPU.*.cpuprofile [--top 30] [--by total] [--match daemon/]
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { functionTimes, type CpuProfile } from './lib/cpu-profile.js';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      top: { type: 'string', default: '30' },
      by: { type: 'string', default: 'self' },
      match: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
    },
  });
  if (positionals.length === 0) throw new Error('usage: profile.js FILE.cpuprofile [--top N] [--by self|total] [--match TEXT] [--from MS] [--to MS]');
  for (const file of positionals) {
    const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
    const window = { ...(values.from ? { fromMs: Number(values.from) } : {}), ...(values.to ? { toMs: Number(values.to) } : {}) };
    let times = functionTimes(profile, window);
    const sampled = times.reduce((sum, t) => sum + t.selfMs, 0);
    if (values.by === 'total') times = [...times].sort((a, b) => b.totalMs - a.totalMs);
    if (values.match) times = times.filter((t) => t.where.includes(values.match!) || t.name.includes(values.match!));
    process.stdout.write(`${file}: ${(sampled / 1000).toFixed(2)} s sampled\n`);
    process.stdout.write(`${'self ms'.padStart(9)} ${'total ms'.padStart(9)}  function  (where)\n`);
    for (const t of times.slice(0, Number(values.top))) {
      process.stdout.write(`${t.selfMs.toFixed(0).padStart(9)} ${t.totalMs.toFixed(0).padStart(9)}  ${t.name}  (${t.where})\n`);
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
