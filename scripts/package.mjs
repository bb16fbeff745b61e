// `npm run package`: builds rollcall_<version>_<arch>.deb from this checkout with Debian's own
// dpkg-deb. Nothing is downloaded: the program is the compiled dist/ (built by `npm run
// build` just before), and its production dependencies are this checkout's node_modules
// (installed by `npm ci`, native addons built for this machine) pruned offline of the
// development ones. What goes where, and why, is in packaging/deb/README.md.
//
// Usage: node scripts/package.mjs [--version SEMVER] [--out DIR] [--without-notify]
//   --version         the version to stamp (default: package.json's); also ROLLCALL_PACKAGE_VERSION.
//                     The install test builds a second package this way (0.1.0+test2) to upgrade to.
//   --out DIR         where the .deb is written (default: the current directory)
//   --without-notify  build even though the unix-dgram addon (systemd notifications) is not
//                     built; the unit's Type=notify then cannot start, so this is for tests only
// Prints the path of the .deb on its last line.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

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
  stageDependencies(opt);
  stageSystemFiles(root);
  stageDocs(root);
  normalizeModes(root);
  writeControl(root);
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

/** /opt/rollcall/node_modules: this checkout's, pruned to production (offline, no scripts), then foreign binaries off. */
function stageDependencies(opt) {
  cpSync(join(repo, 'node_modules'), join(opt, 'node_modules'), { recursive: true, verbatimSymlinks: true });
  run('npm', ['prune', '--omit=dev', '--omit=peer', '--ignore-scripts', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: opt });
  rmSync(join(opt, 'node_modules', '.package-lock.json'), { force: true });
  removeUnreached(opt);
  // node-gyp-build picks prebuilds/<platform>-<arch>/; the others are for other systems
  // (and musl builds for other libcs). Only this machine's stay, which is why the package is
  // architecture-specific.
  const platformArch = `linux-${process.arch}`;
  for (const dir of findDirs(join(opt, 'node_modules'), 'prebuilds')) {
    for (const entry of readdirSync(dir)) {
      if (entry !== platformArch) rmSync(join(dir, entry), { recursive: true });
      else for (const file of readdirSync(join(dir, entry))) if (file.includes('.musl.')) rmSync(join(dir, entry, file));
    }
  }
  // unix-dgram's addon as node-gyp built it: only the .node file is loaded.
  const build = join(opt, 'node_modules', 'unix-dgram', 'build');
  if (existsSync(build)) {
    for (const entry of readdirSync(build)) if (entry !== 'Release') rmSync(join(build, entry), { recursive: true });
    for (const entry of readdirSync(join(build, 'Release'))) if (entry !== 'unix_dgram.node') rmSync(join(build, 'Release', entry), { recursive: true });
  }
  // What no runtime reads: the addons' C++ sources (classic-level's copy of LevelDB, whose
  // build scripts lintian takes for scripts), type declarations, source maps, npm and git
  // ignore files, HTML documentation (pino's loads scripts from CDNs), and the binaries of
  // the bare-* packages, which only the Bare runtime loads (Node takes streamx's Node path).
  for (const dir of ['classic-level/deps', 'unix-dgram/src']) rmSync(join(opt, 'node_modules', dir), { recursive: true, force: true });
  removeFiles(join(opt, 'node_modules'), (name) =>
    /\.d\.[cm]?ts$|\.map$|\.html$|\.bare$/.test(name) || ['.npmignore', '.gitignore', '.gitattributes', '.travis.yml', '.eslintrc'].includes(name),
  );
  // Debian ships shared objects stripped (dh_strip does it for debhelper packages).
  for (const file of findFiles(join(opt, 'node_modules'), (name) => name.endsWith('.node'))) run('strip', ['--strip-unneeded', file]);
}

/**
 * npm keeps an optional peer that is also a development dependency (typescript, for
 * cosmiconfig's .ts configs, 23 MB) even with --omit=dev --omit=peer. What stays is what
 * the program can reach: its dependencies, their dependencies, optional and required peers,
 * found the way Node finds them (node_modules from the requiring package upwards).
 */
function removeUnreached(opt) {
  const reached = new Set();
  const visit = (dir) => {
    if (reached.has(dir)) return;
    reached.add(dir);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const optionalPeers = new Set(Object.entries(pkg.peerDependenciesMeta ?? {}).filter(([, meta]) => meta.optional).map(([name]) => name));
    const names = [
      ...Object.keys(pkg.dependencies ?? {}),
      ...Object.keys(pkg.optionalDependencies ?? {}),
      ...Object.keys(pkg.peerDependencies ?? {}).filter((name) => !optionalPeers.has(name)),
    ];
    for (const name of names) {
      for (let from = dir; ; from = dirname(from)) {
        const candidate = join(from, 'node_modules', name);
        if (existsSync(join(candidate, 'package.json'))) {
          visit(candidate);
          break;
        }
        if (from === opt || !from.startsWith(opt)) break;
      }
    }
  };
  visit(opt);
  for (const dir of packageDirs(join(opt, 'node_modules'))) if (![...reached].some((kept) => dir === kept || kept.startsWith(`${dir}/`))) rmSync(dir, { recursive: true, force: true });
  const bin = join(opt, 'node_modules', '.bin');
  if (existsSync(bin)) rmSync(bin, { recursive: true });
}

/** The shared libraries the native addons need, as Debian's own dpkg-shlibdeps reads them (libc6, libstdc++6 …). */
function libraryDepends(root) {
  const objects = findFiles(join(root, 'opt'), (name) => name.endsWith('.node'));
  if (objects.length === 0) return [];
  // dpkg-shlibdeps wants a source package's debian/control; a minimal one in the stage does.
  const work = join(stage, 'shlibdeps');
  mkdirSync(join(work, 'debian'), { recursive: true });
  writeFileSync(join(work, 'debian', 'control'), 'Source: rollcall\n\nPackage: rollcall\nArchitecture: any\n');
  const out = run('dpkg-shlibdeps', ['-O', '--warnings=0', ...objects], { cwd: work });
  const line = /^shlibs:Depends=(.*)$/m.exec(out);
  return line ? line[1].split(',').map((d) => d.trim()).filter(Boolean) : [];
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

/** /usr/share/doc/rollcall: the copyright file and a changelog, as Debian policy asks of every package. */
function stageDocs(root) {
  const doc = join(root, 'usr', 'share', 'doc', 'rollcall');
  mkdirSync(doc, { recursive: true });
  writeFileSync(join(doc, 'copyright'), copyright(join(root, 'opt', 'rollcall', 'node_modules')));
  const revision = gitRevision();
  const date = new Date().toUTCString().replace('GMT', '+0000');
  const changelog =
    `rollcall (${debianVersion}) unstable; urgency=medium\n\n` +
    `  * Built by \`npm run package\` from ${revision ? `git revision ${revision}` : 'a checkout without git'}.\n` +
    `    The project's history is its git log.\n\n` +
    ` -- ${maintainerLine}  ${date}\n`;
  // gzip without a name or time in the header (-n), as Debian wants for reproducible packages.
  writeFileSync(join(doc, 'changelog.gz'), gzipSync(changelog, { level: 9 }));
  // The tags lintian reports that are this package's design, each with its reason.
  const overrides = join(root, 'usr', 'share', 'lintian', 'overrides');
  mkdirSync(overrides, { recursive: true });
  cpSync(join(packaging, 'lintian-overrides'), join(overrides, 'rollcall'));
  const man = join(root, 'usr', 'share', 'man', 'man1');
  mkdirSync(man, { recursive: true });
  writeFileSync(join(man, 'rollcall.1.gz'), gzipSync(manPage(), { level: 9 }));
}

/** rollcall(1): the CLI's own --help, so the page says what the program says. */
function manPage() {
  const help = run(process.execPath, [join(repo, 'dist', 'daemon', 'main.js'), '--help']);
  const escape = (line) => line.replace(/\\/g, '\\e').replace(/^([.'])/, '\\&$1');
  return [
    `.TH ROLLCALL 1 "" "rollcall ${version}" "User Commands"`,
    '.SH NAME',
    'rollcall \\- keep the users of an access-control site identical on every device',
    '.SH SYNOPSIS',
    '.B rollcall',
    '.I command',
    '[\\fIoptions\\fR]',
    '.SH DESCRIPTION',
    'The output of \\fBrollcall \\-\\-help\\fR follows; \\fBrollcall help\\fR \\fIcommand\\fR shows one command.',
    'The daemon runs as \\fBrollcall.service\\fR with \\fI/etc/rollcall/rollcall.yaml\\fR;',
    'its documentation is in \\fI/opt/rollcall/README.md\\fR and \\fI/opt/rollcall/systemd/README.md\\fR.',
    '.PP',
    '.nf',
    ...help.trimEnd().split('\n').map(escape),
    '.fi',
    '',
  ].join('\n');
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

function startsWithShebang(path) {
  const head = Buffer.alloc(2);
  const fd = openSync(path, 'r');
  try {
    return readSync(fd, head, 0, 2, 0) === 2 && head.toString('latin1') === '#!';
  } finally {
    closeSync(fd);
  }
}

function writeControl(root) {
  const control = join(root, 'DEBIAN');
  mkdirSync(control);
  const installedKiB = Number(run('du', ['-sk', '--apparent-size', root]).split('\t')[0]);
  writeFileSync(
    join(control, 'control'),
    [
      'Package: rollcall',
      `Version: ${debianVersion}`,
      `Architecture: ${arch}`,
      `Maintainer: ${maintainerLine}`,
      `Installed-Size: ${installedKiB}`,
      // systemd: the postinst runs systemd-sysusers and systemd-tmpfiles, and the unit is the way to run it.
      `Depends: ${['nodejs (>= 20.19)', 'systemd', ...libraryDepends(root)].join(', ')}`,
      'Section: admin',
      'Priority: optional',
      'Description: syncs the users of an access-control site to Suprema G-SDK devices',
      ' rollcall holds the site\'s user database, pushes every change to the',
      ' devices through a G-SDK device gateway, merges users enrolled or edited at',
      ' a device back into it, imports and exports CSV and data files dropped into',
      ' /var/spool/rollcall, and exposes Prometheus metrics. It runs as',
      ' rollcall.service, as the rollcall user.',
      ' .',
      ' The program and its npm dependencies live under /opt/rollcall; the node',
      ' it runs is /usr/bin/node from the nodejs package.',
      '',
    ].join('\n'),
  );
  writeFileSync(join(control, 'conffiles'), '/etc/rollcall/rollcall.yaml\n');
  for (const script of ['postinst', 'prerm', 'postrm']) {
    cpSync(join(packaging, script), join(control, script));
    chmodSync(join(control, script), 0o755);
  }
  const sums = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      const stat = lstatSync(path);
      if (stat.isDirectory()) {
        if (path !== control) walk(path);
      } else if (stat.isFile()) {
        sums.push(`${createHash('md5').update(readFileSync(path)).digest('hex')}  ${relative(root, path)}`);
      }
    }
  };
  walk(root);
  writeFileSync(join(control, 'md5sums'), `${sums.join('\n')}\n`);
  chmodSync(join(control, 'md5sums'), 0o644);
}

/** packaging/deb/copyright, then one stanza per bundled npm package with the license its package.json names. */
function copyright(modules) {
  const stanzas = [];
  const licenses = new Set();
  for (const dir of packageDirs(modules)) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const license = typeof pkg.license === 'string' ? pkg.license : 'unknown';
    licenses.add(license);
    stanzas.push(`Files: ${relative(join(modules, '..', '..', '..'), dir)}/*\nCopyright: the authors of ${pkg.name} ${pkg.version} (see its package.json)\nLicense: ${license}\n`);
  }
  const texts = [...licenses].sort().map(
    (license) => `License: ${license}\n The text is in the license file inside each package folder that names ${license} above.\n`,
  );
  return [readFileSync(join(packaging, 'copyright'), 'utf8'), ...stanzas, ...texts].join('\n');
}

/** Every installed package folder under node_modules (scoped and nested ones too). */
function packageDirs(modules, found = []) {
  if (!existsSync(modules)) return found;
  for (const entry of readdirSync(modules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const path = join(modules, entry.name);
    if (entry.name.startsWith('@')) packageDirs(path, found);
    else if (existsSync(join(path, 'package.json'))) {
      found.push(path);
      packageDirs(join(path, 'node_modules'), found);
    }
  }
  return found;
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

function findFiles(dir, match, found = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) findFiles(path, match, found);
    else if (entry.isFile() && match(entry.name)) found.push(path);
  }
  return found;
}

function removeFiles(dir, match) {
  for (const file of findFiles(dir, match)) rmSync(file);
}

function findDirs(dir, name, found = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (entry.name === name) found.push(path);
    else findDirs(path, name, found);
  }
  return found;
}

function run(command, args, extra = {}) {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...extra });
}

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}
