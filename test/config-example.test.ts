import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BUILTIN_PLUGINS } from '../daemon/plugins/registry.js';
import { validateConfig } from '../daemon/config/load.js';
import { leafKeys } from '../daemon/config/reference.js';
import { repoRoot } from './helpers/daemon-process.js';

const examplePath = join(repoRoot, 'config.example.yaml');
const exampleText = readFileSync(examplePath, 'utf8');

test('config.example.yaml is valid', () => {
  const result = validateConfig({ filepath: examplePath, baseDir: repoRoot, raw: parse(exampleText) }, BUILTIN_PLUGINS);
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.issues));
});

test('config.example.yaml documents every key (set, or shown commented out)', () => {
  const raw = parse(exampleText) as Record<string, unknown>;
  const has = (path: string): boolean => {
    let node: unknown = raw;
    for (const part of path.split('.')) {
      if (node === null || typeof node !== 'object' || !(part in node)) return false;
      node = (node as Record<string, unknown>)[part];
    }
    return true;
  };
  const undocumented = leafKeys(BUILTIN_PLUGINS).filter((key) => {
    if (has(key)) return false;
    const last = key.split('.').pop()!;
    return !new RegExp(`^\\s*#\\s*${last}:`, 'm').test(exampleText);
  });
  assert.deepEqual(undocumented, []);
});
