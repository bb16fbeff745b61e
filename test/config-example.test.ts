import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BUILTIN_PLUGINS } from '../daemon/plugins/registry.js';
import { validateConfig } from '../daemon/config/load.js';
import { configReference, leafKeys } from '../daemon/config/reference.js';
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

test('README.md carries the current config reference (rollcall config-schema --markdown)', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const start = readme.indexOf('<!-- config-reference:start -->');
  const end = readme.indexOf('<!-- config-reference:end -->');
  assert.ok(start >= 0 && end > start, 'README.md has the config reference markers');
  const block = readme.slice(start + '<!-- config-reference:start -->'.length, end).trim();
  assert.equal(block, configReference(BUILTIN_PLUGINS).trim());
});
