import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes } from '../../daemon/errors.js';
import { EventKinds } from '../../daemon/event-kinds.js';
import { catalogueTable, README_BLOCKS, readmeBlock, withReadmeBlock, type ReadmeBlockName } from '../../daemon/readme-blocks.js';
import { repoRoot } from '../helpers/daemon-process.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

for (const name of Object.keys(README_BLOCKS) as ReadmeBlockName[]) {
  test(`README.md carries the current ${name} block (npm run readme rewrites it)`, () => {
    const block = readmeBlock(readme, name);
    assert.ok(block !== undefined, `README.md has the ${name} markers`);
    assert.equal(block, README_BLOCKS[name]().trim());
  });
}

test('the tables of README.md list every error code and every event kind, each once', () => {
  const keysOf = (name: ReadmeBlockName): string[] => [...(readmeBlock(readme, name) ?? '').matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!);
  assert.deepEqual(keysOf('error-codes'), Object.keys(ErrorCodes));
  assert.deepEqual(keysOf('event-kinds'), Object.keys(EventKinds));
});

test('codes and kinds keep their forms', () => {
  assert.deepEqual(Object.keys(ErrorCodes).filter((code) => !/^ROLLCALL_ERR_[A-Z]+(_[A-Z]+)*$/.test(code)), []);
  assert.deepEqual(Object.keys(EventKinds).filter((kind) => !/^[a-z]+(\.[a-z]+)+$/.test(kind)), []);
  assert.deepEqual([...Object.values(ErrorCodes), ...Object.values(EventKinds)].filter((meaning) => meaning.trim() === '' || meaning.includes('\n')), []);
});

test('catalogueTable: one row a key, in the catalogue\'s order, a | in a meaning escaped', () => {
  assert.equal(
    catalogueTable('kind', { 'b.two': 'second', 'a.one': 'either | or' }),
    '| kind | meaning |\n|---|---|\n| `b.two` | second |\n| `a.one` | either \\| or |\n',
  );
});

test('withReadmeBlock replaces only the text between the markers; readmeBlock reads it back', () => {
  const text = 'intro\n<!-- event-kinds:start -->\nold\n<!-- event-kinds:end -->\noutro\n<!-- error-codes:start -->\nkept\n<!-- error-codes:end -->\n';
  const next = withReadmeBlock(text, 'event-kinds', '| new |\n');
  assert.equal(next, 'intro\n<!-- event-kinds:start -->\n| new |\n<!-- event-kinds:end -->\noutro\n<!-- error-codes:start -->\nkept\n<!-- error-codes:end -->\n');
  assert.equal(readmeBlock(next, 'event-kinds'), '| new |');
  assert.equal(readmeBlock(next, 'error-codes'), 'kept');
  assert.equal(withReadmeBlock(next, 'event-kinds', '| new |\n'), next, 'rewriting is stable');
  assert.equal(readmeBlock('no markers', 'event-kinds'), undefined);
  assert.throws(() => withReadmeBlock('no markers', 'event-kinds', 'x'), /no <!-- event-kinds:start -->/);
});
