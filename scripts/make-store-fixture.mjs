// Makes a fixture store with an earlier release's code, for
// test/plugins/storage/level-previous-release.test.ts: a detached git worktree of REVISION
// in a temp folder, `npm ci` there (its own lockfile, from the npm registry, which builds it),
// then test/fixtures/store/write-store.mjs (this checkout's) run against that build writes
// test/fixtures/store/NAME/leveldb and what the old code read back (expected.json), and
// source.json says which revision, version and store format made it.
// The stores are committed: the test needs neither git history nor a second install.
// Usage: node scripts/make-store-fixture.mjs REVISION NAME   (e.g. v0.2.0 level-0.2.0)
// At each release that changes the store format, add one made by the release before it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const repo = resolve(dirname(new URL(import.meta.url).pathname), '..');
const [revision, name] = process.argv.slice(2);
if (!revision || !name || !/^[a-z0-9.-]+$/.test(name)) {
  console.error('usage: node scripts/make-store-fixture.mjs REVISION NAME (NAME: lowercase, digits, dots, dashes)');
  process.exit(1);
}
const out = join(repo, 'test', 'fixtures', 'store', name);
if (existsSync(out)) {
  console.error(`${out} exists; remove it first to make it again`);
  process.exit(1);
}
const run = (command, args, cwd = repo) => execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
const commit = run('git', ['rev-parse', '--verify', `${revision}^{commit}`]).trim();
const tree = join(mkdtempSync(join(tmpdir(), 'rollcall-old-')), 'rollcall');
run('git', ['worktree', 'add', '--detach', tree, commit]);
try {
  console.log(`npm ci in ${tree} (${commit.slice(0, 12)}) …`);
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: tree, stdio: ['ignore', 'ignore', 'inherit'] });
  console.log(run(process.execPath, [join(repo, 'test', 'fixtures', 'store', 'write-store.mjs'), tree, out]).trim());
  // LevelDB's text logs (times, thread ids) and its LOCK are not data; LevelDB makes them again.
  for (const file of ['LOG', 'LOG.old', 'LOCK']) rmSync(join(out, 'leveldb', file), { force: true });
  const marker = join(out, 'leveldb', 'ROLLCALL-STORE');
  const format = existsSync(marker) ? JSON.parse(readFileSync(marker, 'utf8')).format : undefined;
  const version = JSON.parse(readFileSync(join(tree, 'package.json'), 'utf8')).version;
  const subject = run('git', ['log', '-1', '--format=%s', commit]).trim();
  writeFileSync(join(out, 'source.json'), `${JSON.stringify({ revision: commit, subject, version, format, madeBy: 'scripts/make-store-fixture.mjs' }, null, 2)}\n`);
  console.log(`${out}: format ${format}, rollcall ${version} at ${commit.slice(0, 12)}`);
} finally {
  run('git', ['worktree', 'remove', '--force', tree]);
  rmSync(dirname(tree), { recursive: true, force: true });
}
