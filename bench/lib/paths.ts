/** Where things are, from the compiled file's place (dist/bench/lib → repository root). */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const repoRoot = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
/** The rollcall CLI (`rollcall run`, `rollcall sim`). */
export const cliPath = join(repoRoot, 'dist', 'daemon', 'main.js');
/** bench/ of the source tree: results and RESULTS.md are written there. */
export const benchSourceDir = join(repoRoot, 'bench');
/** dist/bench: the compiled benchmarks. */
export const benchDistDir = join(repoRoot, 'dist', 'bench');
