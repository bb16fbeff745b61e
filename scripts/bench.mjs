// Runs the benchmarks (bench/, compiled into dist/bench) one after another, each in a
// process of its own so that none inherits another's heap or warm caches.
// Usage: node scripts/bench.mjs [--quick] [--no-record] [import|import-postgres|fanout|latency|reconcile|idle|wire-size|pg-commits ...]
// With no names, all run (import-postgres needs Debian's postgresql package). Each writes bench/results/<name>.json and bench/RESULTS.md.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ALL = ['import', 'import-postgres', 'fanout', 'latency', 'reconcile', 'idle', 'wire-size', 'pg-commits'];
const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const unknown = names.filter((n) => !ALL.includes(n));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${ALL.join(', ')}`);
  process.exit(64);
}
const chosen = names.length > 0 ? names : ALL;
const failed = [];
for (const name of chosen) {
  const file = resolve(join('dist', 'bench', `${name}.js`));
  if (!existsSync(file)) {
    console.error(`${file} is missing; run \`npm run build\` first`);
    process.exit(1);
  }
  console.error(`\n== ${name} ${flags.join(' ')}`);
  const result = spawnSync(process.execPath, [file, ...flags], { stdio: 'inherit' });
  if (result.status !== 0) failed.push(name);
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exit(1);
}
