// The reliability suites (issue 8): the fast ones (*.test.js, also in `npm test`) and the long
// ones (*.long.js, only here), from dist/test/reliability. Usage: node scripts/test-reliability.mjs [name-filter]
// One file at a time: the long suites measure latency and kill processes, and two of them at
// once on two cores would measure each other.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const dir = resolve('dist/test/reliability');
if (!existsSync(dir)) {
  console.error(`${dir} not found; run \`npm run build\` first`);
  process.exit(1);
}
const filter = process.argv[2];
const files = readdirSync(dir)
  .filter((f) => (f.endsWith('.test.js') || f.endsWith('.long.js')) && (!filter || f.includes(filter)))
  .sort((a, b) => Number(a.endsWith('.long.js')) - Number(b.endsWith('.long.js')) || a.localeCompare(b))
  .map((f) => join(dir, f));
if (files.length === 0) {
  console.error('no reliability suites matched');
  process.exit(1);
}
const started = Date.now();
// The fuzz suites run more cases here than in `npm test` (a caller's own figures win).
const env = { ROLLCALL_FUZZ_CASES: '20000', ROLLCALL_ADMIN_FUZZ_CASES: '3000', ...process.env };
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--enable-source-maps', ...files], { stdio: 'inherit', env });
console.log(`# reliability suites: ${files.length} files in ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exit(result.status ?? 1);
