// /opt/rollcall/node_modules for the package: this checkout's node_modules, pruned offline
// to what the program can load on this machine (packaging/deb/README.md, What it holds).
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { findDirs, findFiles, removeFiles, run } from './files.mjs';

/** /opt/rollcall/node_modules: this checkout's, pruned to production (offline, no scripts), then foreign binaries off. */
export function stageDependencies(opt, repo) {
  cpSync(join(repo, 'node_modules'), join(opt, 'node_modules'), { recursive: true, verbatimSymlinks: true });
  // Under `npm run package` the parent npm hands its settings down as npm_config_* variables
  // (allow-scripts from .npmrc among them, which npm then refuses as a command-line flag);
  // the prune reads the staged .npmrc itself instead.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
  run('npm', ['prune', '--omit=dev', '--omit=peer', '--ignore-scripts', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: opt, env });
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

/** Every installed package folder under node_modules (scoped and nested ones too). */
export function packageDirs(modules, found = []) {
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
