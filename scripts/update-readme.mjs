// Rewrites the config reference block of README.md from the schema (after `npm run build`).
import { readFileSync, writeFileSync } from 'node:fs';
import { BUILTIN_PLUGINS } from '../dist/daemon/plugins/registry.js';
import { configReference } from '../dist/daemon/config/reference.js';

const start = '<!-- config-reference:start -->';
const end = '<!-- config-reference:end -->';
const readme = readFileSync('README.md', 'utf8');
const before = readme.slice(0, readme.indexOf(start) + start.length);
const after = readme.slice(readme.indexOf(end));
writeFileSync('README.md', `${before}\n${configReference(BUILTIN_PLUGINS)}${after}`);
