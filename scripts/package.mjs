// `npm run package`: builds rollcall_<version>_<arch>.deb from this checkout with Debian's own
// dpkg-deb. Nothing is downloaded: the program is the compiled dist/ (built by `npm run
// build` just before), and its production dependencies are this checkout's node_modules
// (installed by `npm ci`, native addons built for this machine) pruned offline of the
// development ones. What goes where, and why, is in packaging/deb/README.md; the parts are
// in scripts/package/ (dependencies, docs, DEBIAN control files, file helpers).
//
// Usage: node scripts/package.mjs [--version SEMVER] [--out DIR] [--without-notify]
//   --version         the version to stamp (default: package.json's); also ROLLCALL_PACKAGE_VERSION.
//                     The install test builds a second package this way (0.1.0+test2) to upgrade to.
//   --out DIR         where the .deb is written (default: the current directory)
//   --without-notify  build even though the unix-dgram addon (systemd notifications) is not
//                     built; the unit's Type=notify then cannot start, so this is for tests only
// Prints the path of the .deb on its last line.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeControl } from './package/control.mjs';
import { stageDependencies } from './package/dependencies.mjs';
import { stageDocs } from './package/docs.mjs';
import { run, startsWithShebang } from './package/files.mjs';

const repo = resolve(dirname(new URL(import.meta.url).pathname), '..');
const packaging = join(repo, 'packaging', 'deb');

const { values: options } = parseArgs({
  options: {
    version: { type: 'string' },
    out: { type: 'string', default: process.cwd() },
    'without-notify': { type: 'boolean', default: false },
  },
});

const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const version = options.version ?? process.env.ROLLCALL_PACKAGE_VERSION ?? manifest.version;
if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(version)) fail(`version ${version} is not a semver version (1.2.3, 1.2.3-rc.1, 1.2.3+build)`);
// A semver pre-release sorts before its release; in Debian that is `~`.
const debianVersion = version.replace(/-/, '~');
const arch = run('dpkg', ['--print-architecture']).trim();
// The native addons in node_modules were built (or picked) for the node running this.
const nodeArch = { amd64: 'x64', arm64: 'arm64', armhf: 'arm', i386: 'ia32', ppc64el: 'ppc64', s390x: 's390x' }[arch];
if (nodeArch !== process.arch) fail(`dpkg's architecture is ${arch} but node's is ${process.arch}: build the package with the node of the machine it is for`);
const maintainerLine = maintainer();
const started = Date.now();

if (!existsSync(join(repo, 'dist', 'daemon', 'main.js'))) fail('dist/ is not built: run `npm run build` (`npm run package` does it first)');
const notifyAddon = join(repo, 'node_modules', 'unix-dgram', 'build', 'Release', 'unix_dgram.node');
if (!existsSync(notifyAddon)) {
  const why =
    'the unix-dgram addon (systemd notifications) is not built in node_modules: the unit is Type=notify and would be killed at TimeoutStartSec. ' +
    'Install python3, make and g++ and run `npm ci` again (systemd/README.md, Install)';
  if (!options['without-notify']) fail(why);
  console.warn(`WARNING: ${why}; building anyway (--without-notify)`);
}

const stage = mkdtempSync(join(tmpdir(), 'rollcall-package-'));
try {
  const root = join(stage, 'root');
  const opt = join(root, 'opt', 'rollcall');
  stageProgram(opt);
  const build = { repo, packaging, version, debianVersion, arch, maintainer: maintainerLine, revision: gitRevision(), stage };
  stageDependencies(opt, repo);
  stageSystemFiles(root);
  stageDocs(root, build);
  normalizeModes(root);
  writeControl(root, build);
  mkdirSync(options.out, { recursive: true });
  const deb = join(resolve(options.out), `rollcall_${debianVersion}_${arch}.deb`);
  // --root-owner-group: every file root:root without fakeroot; the postinst gives the
  // rollcall group what it needs once the group exists.
  run('dpkg-deb', ['--root-owner-group', '-Zxz', '-z6', '--build', root, deb]);
  console.log(`# ${relative(process.cwd(), deb) || deb}: ${(statSync(deb).size / 1048576).toFixed(1)} MiB, built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(deb);
} finally {
  rmSync(stage, { recursive: true, force: true });
}

/** /opt/rollcall: package.json (with the version stamped), the compiled program without its tests and benches. */
function stageProgram(opt) {
  mkdirSync(opt, { recursive: true });
  writeFileSync(join(opt, 'package.json'), `${JSON.stringify({ ...manifest, version }, null, 2)}\n`);
  for (const file of ['package-lock.json', '.npmrc', 'README.md', 'config.example.yaml']) cpSync(join(repo, file), join(opt, file));
  // The unit's Documentation= points here.
  mkdirSync(join(opt, 'systemd'));
  cpSync(join(repo, 'systemd', 'README.md'), join(opt, 'systemd', 'README.md'));
  cpSync(join(repo, 'dist'), join(opt, 'dist'), {
    recursive: true,
    filter: (source) => {
      const path = relative(join(repo, 'dist'), source);
      // Source maps point at .ts files that are not shipped; tests and benches are not the program.
      return !['test', 'bench', '.tsbuildinfo'].includes(path.split('/')[0]) && !path.endsWith('.map');
    },
  });
}

/** The CLI, the unit, the sysusers and tmpfiles snippets and the config, in their system places. */
function stageSystemFiles(root) {
  const place = (from, to, mode) => {
    mkdirSync(dirname(join(root, to)), { recursive: true });
    cpSync(from, join(root, to));
    chmodSync(join(root, to), mode);
  };
  place(join(packaging, 'rollcall'), 'usr/bin/rollcall', 0o755);
  // /lib, not /usr/lib: where Debian 12's systemd packages and lintian expect units.
  place(join(repo, 'systemd', 'rollcall.service'), 'lib/systemd/system/rollcall.service', 0o644);
  place(join(repo, 'systemd', 'rollcall.sysusers'), 'usr/lib/sysusers.d/rollcall.conf', 0o644);
  place(join(repo, 'systemd', 'rollcall.tmpfiles'), 'usr/lib/tmpfiles.d/rollcall.conf', 0o644);
  place(join(repo, 'systemd', 'rollcall.yaml'), 'etc/rollcall/rollcall.yaml', 0o640);
}

/**
 * dpkg keeps modes as they are in the tree; a checkout's or npm's umask must not decide them.
 * Executable: what starts with `#!` (and `main.js`, which does); shared objects are not.
 */
function normalizeModes(root) {
  const conffile = join(root, 'etc', 'rollcall', 'rollcall.yaml');
  const walk = (dir) => {
    chmodSync(dir, 0o755);
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      const stat = lstatSync(path);
      if (stat.isSymbolicLink()) continue;
      if (stat.isDirectory()) walk(path);
      else if (path !== conffile) chmodSync(path, startsWithShebang(path) ? 0o755 : 0o644);
    }
  };
  walk(root);
}

function maintainer() {
  const who = process.env.ROLLCALL_PACKAGE_MAINTAINER ?? manifest.author;
  if (typeof who !== 'string' || !/^[^<>]+ <[^<>@\s]+@[^<>\s]+>$/.test(who)) fail('no maintainer: set "author" ("Name <email>") in package.json or ROLLCALL_PACKAGE_MAINTAINER');
  return who;
}

function gitRevision() {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}
