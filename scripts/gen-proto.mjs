// Regenerates proto/gen from proto/**/*.proto with ts-proto through the buf CLI from npm.
// proto/gen is build output: it is removed first and never edited by hand.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
rmSync(join(root, 'proto/gen'), { recursive: true, force: true });
const buf = join(root, 'node_modules/.bin/buf');
const result = spawnSync(buf, ['generate'], { cwd: root, stdio: 'inherit' });
if (result.error) {
  console.error(`buf generate could not start: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
