// Runs the compiled test files with node:test. Usage: node scripts/run-tests.mjs [dir-or-file ...]
// Only files named *.test.js run; suites and helpers beside them are imported by those.
// Set ROLLCALL_TEST_CONCURRENCY to change how many files run at once (default 2: the cores here).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

function collect(path, out) {
  if (!existsSync(path)) return;
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path).sort()) collect(join(path, entry), out);
  } else if (path.endsWith('.test.js')) {
    out.push(path);
  }
}

const args = process.argv.slice(2);
const roots = args.length > 0 ? args.map((a) => resolve(a)) : [resolve('dist/test')];
const files = [];
for (const root of roots) collect(root, files);
if (files.length === 0) {
  console.error(`no test files found under ${roots.join(', ')}; run \`npm run build\` first`);
  process.exit(1);
}
const concurrency = process.env.ROLLCALL_TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${concurrency}`, '--enable-source-maps', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
