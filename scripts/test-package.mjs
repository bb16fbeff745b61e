// The install test (issue 17): builds the Debian package, installs, upgrades, removes and
// purges it on this machine (test/package/install.pkg.ts says what it checks and how it
// cleans up). Never part of `npm test`: it needs root and changes the machine while it runs.
// Usage: node scripts/test-package.mjs (after `npm run build`; `npm run test:package` does both)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const file = resolve('dist/test/package/install.pkg.js');
if (!existsSync(file)) {
  console.error(`${file} not found; run \`npm run build\` first`);
  process.exit(1);
}
const started = Date.now();
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--enable-source-maps', file], { stdio: 'inherit' });
console.log(`# install test: ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exit(result.status ?? 1);
