// Rewrites the generated blocks of README.md (the config reference, the tables of error codes
// and of event kinds) from the code, after `npm run build`. daemon/readme-blocks.ts lists them.
import { readFileSync, writeFileSync } from 'node:fs';
import { README_BLOCKS, withReadmeBlock } from '../dist/daemon/readme-blocks.js';

let readme = readFileSync('README.md', 'utf8');
for (const [name, render] of Object.entries(README_BLOCKS)) readme = withReadmeBlock(readme, name, render());
writeFileSync('README.md', readme);
