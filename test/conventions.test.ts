import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_PLUGINS } from '../daemon/plugins/registry.js';
import { buildConfigSchema } from '../daemon/config/schema.js';
import { ErrorCodes } from '../daemon/errors.js';
import { EventKinds } from '../daemon/event-kinds.js';

// dist/test/conventions.test.js → repository root
const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

function pluginFolders(): string[] {
  const out: string[] = [];
  for (const kind of readdirSync(join(root, 'plugins'))) {
    const kindDir = join(root, 'plugins', kind);
    if (!statSync(kindDir).isDirectory()) continue;
    for (const name of readdirSync(kindDir)) {
      const dir = join(kindDir, name);
      if (statSync(dir).isDirectory()) out.push(dir);
    }
  }
  return out;
}

/** The .ts files below these top folders, as paths from the repository root. */
function sourceFilesUnder(tops: string[]): string[] {
  const out: string[] = [];
  const scan = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) scan(path);
      else if (path.endsWith('.ts')) out.push(path.slice(root.length + 1));
    }
  };
  for (const top of tops) scan(join(root, top));
  return out;
}

test('every plugin folder has index.ts, schema.ts and README.md', () => {
  const folders = pluginFolders();
  assert.ok(folders.length >= 9, `expected the built-in plugin folders, found ${folders.length}`);
  const missing = folders.flatMap((dir) =>
    ['index.ts', 'schema.ts', 'README.md'].filter((f) => !existsSync(join(dir, f))).map((f) => `${dir.slice(root.length + 1)}/${f}`),
  );
  assert.deepEqual(missing, []);
});

test('every plugin folder is a registered built-in with the folder\'s name', () => {
  const registered = new Set(BUILTIN_PLUGINS.map((d) => d.name));
  const unregistered = pluginFolders().map((dir) => dir.split('/').pop()!).filter((name) => !registered.has(name));
  assert.deepEqual(unregistered, []);
});

test('built-in plugins compose into one schema without clashes', () => {
  assert.doesNotThrow(() => buildConfigSchema(BUILTIN_PLUGINS));
});

test('on the device side only the gsdk transport imports @grpc/grpc-js', () => {
  const offenders = sourceFilesUnder(['daemon', 'plugins']).filter((path) => /from '@grpc\/grpc-js'/.test(readFileSync(join(root, path), 'utf8')));
  // The admin API (daemon/admin) serves gRPC on a unix socket; the device side is the transport's alone.
  assert.deepEqual(offenders.filter((p) => !p.startsWith('plugins/transports/gsdk/') && !p.startsWith('daemon/admin/')), []);
});

test('nothing the daemon ships imports test helpers', () => {
  const offenders = sourceFilesUnder(['daemon', 'plugins', 'simulator']).filter((path) =>
    /from '(\.\.\/)+test\//.test(readFileSync(join(root, path), 'utf8')),
  );
  assert.deepEqual(offenders, []);
});

/**
 * Codes in the catalogue that nothing raises yet, each with why it stays. Remove an entry once
 * the code is raised; a code that nothing can ever raise leaves the catalogue instead.
 */
const CODES_NOT_RAISED_YET: Record<string, string> = {};

test('every error code and every event kind of the catalogues is used by the code', () => {
  const catalogues = new Set(['daemon/errors.ts', 'daemon/event-kinds.ts', 'daemon/readme-blocks.ts']);
  const text = sourceFilesUnder(['daemon', 'plugins', 'simulator'])
    .filter((path) => !catalogues.has(path))
    .map((path) => readFileSync(join(root, path), 'utf8'))
    .join('\n');
  const unused = (keys: string[]): string[] => keys.filter((key) => !text.includes(`'${key}'`));
  assert.deepEqual(unused(Object.keys(ErrorCodes)).filter((code) => !(code in CODES_NOT_RAISED_YET)), []);
  assert.deepEqual(unused(Object.keys(EventKinds)), []);
  assert.deepEqual(Object.keys(CODES_NOT_RAISED_YET).filter((code) => !(code in ErrorCodes)), [], 'an exception names a code of the catalogue');
});
