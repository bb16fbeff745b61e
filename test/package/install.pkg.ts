/**
 * The Debian package as installed (issue 17): `npm run test:package` (.ci/run runs it after
 * the reliability suites; never part of `npm test`, since it installs into the machine).
 * It builds the package twice (this version and `<version>+test2`), runs lintian on it,
 * installs it with `dpkg -i`, checks `dpkg -L`, the user, the folders and their modes,
 * `rollcall check-config` as the rollcall user and `systemd-analyze verify` on the installed
 * unit, runs the daemon as the rollcall user (runuser) on the embedded simulator until
 * /readyz answers and writes a user through the admin socket, edits the config, upgrades
 * to the second build (the edit and the user survive, the version changes), removes the
 * package (config, state and spool stay) and purges it (they go).
 *
 * It uses loopback only and leaves the machine as it found it: `after` stops a daemon it
 * started, purges rollcall and the nodejs stand-in (nodejs-stand-in.ts) whatever happened,
 * and deletes the rollcall user and groups when they did not exist before. It needs root
 * (or `sudo -n`) and dpkg, and refuses to run where rollcall is already installed.
 * Outside CI a missing precondition skips the whole file, saying why; in CI it fails.
 *
 * The steps are one sequence: each test starts from what the one before left.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { freePort, repoRoot, runCommand, type CliResult } from '../helpers/daemon-process.js';
import { buildNodejsStandIn, nodejsKnownToDpkg, STAND_IN_PACKAGE } from './nodejs-stand-in.js';

const CONFIG = '/etc/rollcall/rollcall.yaml';
const SOCKET = '/run/rollcall/rollcall.sock';
const STATE = '/var/lib/rollcall';
const SPOOL = '/var/spool/rollcall';
const version = (JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
const upgradeVersion = `${version}+test2`;

/** Why this machine cannot run the test, or undefined. */
async function unsuitable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'not Linux';
  if ((await runCommand('sh', ['-c', 'command -v dpkg && command -v dpkg-deb'])).code !== 0) return 'dpkg is not installed (not a Debian-like host)';
  if (process.getuid?.() !== 0 && (await runCommand('sudo', ['-n', 'true']).catch(() => ({ code: 1 }))).code !== 0) return 'neither root nor passwordless sudo';
  const present = await runCommand('dpkg-query', ['-W', '-f=${Status}', 'rollcall']);
  if (present.code === 0 && !present.stdout.includes('not-installed')) return `rollcall is already installed here (${present.stdout.trim()}); the test does not touch an installation it did not make`;
  return undefined;
}

/** Runs as root: directly when we are, else through `sudo -n`. */
function asRoot(command: string, args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  if (process.getuid?.() === 0) return runCommand(command, args, { ...options, env, timeoutMs: options.timeoutMs ?? 180_000 });
  return runCommand('sudo', ['-n', 'env', 'DEBIAN_FRONTEND=noninteractive', command, ...args], { ...options, timeoutMs: options.timeoutMs ?? 180_000 });
}

async function ok(command: string, args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const result = await asRoot(command, args, options);
  assert.equal(result.code, 0, `${command} ${args.join(' ')} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

async function exists(name: string, database: 'passwd' | 'group'): Promise<boolean> {
  return (await runCommand('getent', [database, name])).code === 0;
}

async function modeOf(path: string): Promise<{ mode: number; uid: number; gid: number }> {
  const s = await stat(path);
  return { mode: s.mode & 0o7777, uid: s.uid, gid: s.gid };
}

async function idOf(name: string, flag: '-u' | '-g'): Promise<number> {
  return Number((await runCommand('id', [flag, name])).stdout.trim());
}

/** A daemon run by runuser as the rollcall user, as the unit runs it. */
interface Daemon {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

describe('the Debian package, installed', { concurrency: false }, () => {
  let reason: string | undefined;
  let work: string;
  let debs: { first: string; upgrade: string };
  let standIn: string | undefined;
  let hadUser: { rollcall: boolean; rollcallGroup: boolean; adminGroup: boolean };
  let port: number;
  let daemon: Daemon | undefined;

  const skipOrFail = (t: { skip: (message: string) => void }): boolean => {
    if (reason === undefined) return false;
    assert.ok(process.env.CI !== 'true', `the install test cannot run in CI: ${reason}`);
    t.skip(`SKIPPED: ${reason}; the package was NOT tested as installed`);
    return true;
  };

  before(async () => {
    reason = await unsuitable();
    if (reason !== undefined) return;
    work = await mkdtemp(join(tmpdir(), 'rollcall-package-test-'));
    hadUser = {
      rollcall: await exists('rollcall', 'passwd'),
      rollcallGroup: await exists('rollcall', 'group'),
      adminGroup: await exists('rollcall-admin', 'group'),
    };
    const build = async (args: string[]): Promise<string> => {
      const started = Date.now();
      const result = await runCommand(process.execPath, [join(repoRoot, 'scripts', 'package.mjs'), '--out', work, ...args], { timeoutMs: 300_000 });
      assert.equal(result.code, 0, `package build failed:\n${result.stderr}`);
      console.log(`built ${result.stdout.trim().split('\n').at(-1)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return result.stdout.trim().split('\n').at(-1)!;
    };
    debs = { first: await build([]), upgrade: await build(['--version', upgradeVersion]) };
    if (!(await nodejsKnownToDpkg())) {
      standIn = await buildNodejsStandIn(work);
      await ok('dpkg', ['-i', standIn]);
      console.log(`nodejs is not a dpkg package here: installed the test stand-in for ${process.execPath} (${STAND_IN_PACKAGE})`);
    }
  });

  after(async () => {
    if (reason !== undefined) return;
    if (daemon && daemon.child.exitCode === null) {
      await stopDaemon(daemon).catch(() => {});
    }
    const state = await runCommand('dpkg-query', ['-W', '-f=${Status}', 'rollcall']);
    if (state.code === 0 && !state.stdout.includes('not-installed')) await asRoot('dpkg', ['--purge', 'rollcall']);
    // Made as the unit's RuntimeDirectory= would be; purge leaves /run alone.
    await asRoot('rm', ['-rf', '/run/rollcall']);
    if (standIn !== undefined) await asRoot('dpkg', ['--purge', STAND_IN_PACKAGE]);
    if (!hadUser.rollcall && (await exists('rollcall', 'passwd'))) await asRoot('userdel', ['rollcall']);
    if (!hadUser.rollcallGroup && (await exists('rollcall', 'group'))) await asRoot('groupdel', ['rollcall']);
    if (!hadUser.adminGroup && (await exists('rollcall-admin', 'group'))) await asRoot('groupdel', ['rollcall-admin']);
    await rm(work, { recursive: true, force: true });
  });

  test('lintian reports no tag beyond the explained overrides', async (t) => {
    if (skipOrFail(t)) return;
    const lintian = await runCommand('sh', ['-c', 'command -v lintian']);
    if (lintian.code !== 0) {
      assert.ok(process.env.CI !== 'true', 'lintian is not installed (.ci/run installs it: apt-get install lintian)');
      return t.skip('SKIPPED: lintian is not installed (apt-get install --no-install-recommends lintian); the package was NOT linted');
    }
    const result = await runCommand('lintian', ['--fail-on', 'none', debs.first], { timeoutMs: 300_000 });
    const tags = result.stdout.split('\n').filter((line) => /^[EWIPX]: /.test(line));
    assert.deepEqual(tags, [], 'every tag is fixed or overridden with its reason in packaging/deb/lintian-overrides');
  });

  test('dpkg -i installs the program, the CLI, the unit, the snippets and the config, and makes the user and folders', async (t) => {
    if (skipOrFail(t)) return;
    const installed = await ok('dpkg', ['-i', debs.first], { input: '' });
    if (!existsSync('/run/systemd/system')) assert.match(installed.stderr, /systemd is not running here; rollcall\.service was neither enabled nor started/);

    const files = new Set((await ok('dpkg', ['-L', 'rollcall'])).stdout.split('\n'));
    for (const path of [
      '/opt/rollcall/dist/daemon/main.js',
      '/opt/rollcall/package.json',
      '/opt/rollcall/node_modules/level/package.json',
      '/usr/bin/rollcall',
      '/lib/systemd/system/rollcall.service',
      '/usr/lib/sysusers.d/rollcall.conf',
      '/usr/lib/tmpfiles.d/rollcall.conf',
      CONFIG,
      '/usr/share/doc/rollcall/copyright',
      '/usr/share/man/man1/rollcall.1.gz',
    ]) {
      assert.ok(files.has(path), `dpkg -L rollcall lists ${path}`);
    }
    // Development dependencies and the tests are not shipped.
    for (const path of ['/opt/rollcall/node_modules/typescript', '/opt/rollcall/node_modules/fast-check', '/opt/rollcall/dist/test']) assert.ok(!files.has(path), `${path} is not shipped`);
    assert.equal((await runCommand('dpkg-query', ['-W', '-f=${Conffiles}', 'rollcall'])).stdout.trim().split(' ')[0], CONFIG);

    const help = await runCommand('/usr/bin/rollcall', ['--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: rollcall/);

    const uid = await idOf('rollcall', '-u');
    const gid = await idOf('rollcall', '-g');
    assert.ok(uid > 0 && uid < 1000, `rollcall is a system user (uid ${uid})`);
    assert.ok(await exists('rollcall-admin', 'group'));
    assert.deepEqual(await modeOf('/etc/rollcall'), { mode: 0o750, uid: 0, gid });
    assert.deepEqual(await modeOf(CONFIG), { mode: 0o640, uid: 0, gid });
    assert.deepEqual(await modeOf(SPOOL), { mode: 0o750, uid, gid });
    assert.deepEqual(await modeOf(join(SPOOL, 'incoming')), { mode: 0o2770, uid, gid });
    for (const folder of ['processing', 'done', 'failed', 'outgoing']) assert.deepEqual(await modeOf(join(SPOOL, folder)), { mode: 0o750, uid, gid });
  });

  test('rollcall check-config accepts the installed config, run as the rollcall user', async (t) => {
    if (skipOrFail(t)) return;
    const checked = await ok('runuser', ['-u', 'rollcall', '--', '/usr/bin/rollcall', 'check-config', '--config', CONFIG]);
    assert.match(checked.stdout, /rollcall\.yaml: valid/);
  });

  test('systemd-analyze verify accepts the installed unit', async (t) => {
    if (skipOrFail(t)) return;
    if ((await runCommand('sh', ['-c', 'command -v systemd-analyze'])).code !== 0) return t.skip('SKIPPED: systemd-analyze is not installed; the installed unit was NOT verified');
    const result = await asRoot('systemd-analyze', ['verify', '/lib/systemd/system/rollcall.service']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(`${result.stdout}${result.stderr}`.trim(), '', 'verify is silent when the unit is clean');
  });

  test('the daemon runs as the rollcall user on the embedded simulator until /readyz answers; a user written over the admin socket', async (t) => {
    if (skipOrFail(t)) return;
    // The production config with the gateway swapped for the embedded simulator and a free
    // loopback port: an edit an operator could make.
    port = await freePort();
    const production = parseYaml(await readFile(CONFIG, 'utf8')) as Record<string, unknown>;
    const config = { ...production, http: { listen: `127.0.0.1:${port}` }, gateway: { address: 'embedded', embedded: { port: await freePort() } }, devices: [] };
    await ok('sh', ['-c', `cat > ${CONFIG}`], { input: `# the install test's config: embedded simulator, loopback only\n${toYaml(config)}` });
    await ok('runuser', ['-u', 'rollcall', '--', '/usr/bin/rollcall', 'check-config', '--config', CONFIG]);
    // What the unit's StateDirectory= and RuntimeDirectory= make (no systemd runs it here).
    await ok('install', ['-d', '-m', '0700', '-o', 'rollcall', '-g', 'rollcall', STATE]);
    await ok('install', ['-d', '-m', '0750', '-o', 'rollcall', '-g', 'rollcall', '/run/rollcall']);

    daemon = await startDaemon(port);
    let stopped: number | null;
    try {
      await ok('/usr/bin/rollcall', ['users', 'set', '9001', '--name', 'Installed Once', '--socket', SOCKET]);
      const shown = JSON.parse((await ok('/usr/bin/rollcall', ['status', '--json', '--socket', SOCKET])).stdout) as { daemon: { version: string } };
      assert.equal(shown.daemon.version, version);
    } finally {
      stopped = await stopDaemon(daemon);
    }
    assert.equal(stopped, 0, `the daemon's exit code; its output:\n${daemon.output().slice(-4000)}`);
    const stateFiles = await readdir(STATE, { recursive: true });
    assert.ok(stateFiles.some((f) => f.endsWith('CURRENT')), `the store is in ${STATE}: ${stateFiles.join(', ')}`);
  });

  test('an upgrade to a second build keeps the edited config and the data, and runs the new version', async (t) => {
    if (skipOrFail(t)) return;
    await ok('sh', ['-c', `printf '# edited before the upgrade\\n' >> ${CONFIG}`]);
    const edited = await readFile(CONFIG, 'utf8');
    // Non-interactive (no terminal, DEBIAN_FRONTEND=noninteractive, no --force-conf* option):
    // the shipped config did not change between the builds, so dpkg keeps the edited one.
    await ok('dpkg', ['-i', debs.upgrade], { input: '' });
    assert.equal((await runCommand('dpkg-query', ['-W', '-f=${Version}', 'rollcall'])).stdout, upgradeVersion);
    assert.equal(await readFile(CONFIG, 'utf8'), edited, 'the edited config survived the upgrade');
    assert.ok(!existsSync(`${CONFIG}.dpkg-dist`) && !existsSync(`${CONFIG}.dpkg-new`), 'no second copy of the config');
    assert.deepEqual(await modeOf(CONFIG), { mode: 0o640, uid: 0, gid: await idOf('rollcall', '-g') });

    daemon = await startDaemon(port);
    let stopped: number | null;
    try {
      const status = JSON.parse((await ok('/usr/bin/rollcall', ['status', '--json', '--socket', SOCKET])).stdout) as { daemon: { version: string } };
      assert.equal(status.daemon.version, upgradeVersion, 'the new program runs');
      const user = await ok('/usr/bin/rollcall', ['users', 'show', '9001', '--json', '--socket', SOCKET]);
      assert.match(user.stdout, /Installed Once/, 'the user written before the upgrade is in the store');
    } finally {
      stopped = await stopDaemon(daemon);
    }
    assert.equal(stopped, 0, `the daemon's exit code; its output:\n${daemon.output().slice(-4000)}`);
  });

  test('dpkg -r removes the program and keeps the config, the state and the spool', async (t) => {
    if (skipOrFail(t)) return;
    await ok('dpkg', ['--remove', 'rollcall']);
    assert.match((await runCommand('dpkg-query', ['-W', '-f=${Status}', 'rollcall'])).stdout, /deinstall ok config-files/);
    for (const gone of ['/usr/bin/rollcall', '/opt/rollcall/dist', '/lib/systemd/system/rollcall.service']) assert.ok(!existsSync(gone), `${gone} is gone`);
    assert.match(await readFile(CONFIG, 'utf8'), /# edited before the upgrade/);
    assert.ok((await readdir(STATE, { recursive: true })).some((f) => f.endsWith('CURRENT')), 'the store stays');
    assert.ok(existsSync(join(SPOOL, 'incoming')), 'the spool stays');
  });

  test('dpkg --purge deletes the config, the state and the spool', async (t) => {
    if (skipOrFail(t)) return;
    await ok('dpkg', ['--purge', 'rollcall']);
    for (const gone of ['/etc/rollcall', STATE, SPOOL, '/opt/rollcall']) assert.ok(!existsSync(gone), `${gone} is gone`);
    assert.notEqual((await runCommand('dpkg-query', ['-W', '-f=${Status}', 'rollcall'])).stdout.trim(), 'install ok installed');
  });
});

/** `runuser -u rollcall -- /usr/bin/rollcall run`, waiting until /readyz says 200. */
async function startDaemon(port: number): Promise<Daemon> {
  const command = ['runuser', '-u', 'rollcall', '--', '/usr/bin/rollcall', 'run', '--config', CONFIG];
  const [program, ...args] = process.getuid?.() === 0 ? command : ['sudo', '-n', ...command];
  const child = spawn(program!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const daemon: Daemon = { child, output: () => output, exited };
  // Bounded by tries (about a minute), not by a time budget: a loaded machine only waits longer.
  for (let i = 0; i < 600 && child.exitCode === null; i++) {
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false);
    if (ready) return daemon;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stopDaemon(daemon).catch(() => {});
  throw new Error(`/readyz never answered 200 (exit ${child.exitCode}):\n${output.slice(-4000)}`);
}

/**
 * SIGTERM to node itself, not to runuser: runuser passes a signal on and then kills its
 * child two seconds later, which would cut the graceful stop short. Returns runuser's exit
 * code, which is the daemon's. A daemon that has not stopped within a minute is killed.
 */
async function stopDaemon(daemon: Daemon): Promise<number | null> {
  if (daemon.child.exitCode !== null) return daemon.child.exitCode;
  const childrenOf = async (pid: number | undefined): Promise<number[]> =>
    pid === undefined ? [] : (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).trim().split(/\s+/).filter(Boolean).map(Number);
  // Through sudo there is one more process between us and runuser.
  let [target] = await childrenOf(daemon.child.pid);
  if (target !== undefined && process.getuid?.() !== 0) target = (await childrenOf(target))[0] ?? target;
  if (target === undefined) throw new Error('the daemon process under runuser was not found');
  await asRoot('kill', ['-TERM', String(target)]);
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 60_000).unref());
  const result = await Promise.race([daemon.exited, timeout]);
  if (result !== 'timeout') return result;
  await asRoot('kill', ['-KILL', String(target)]);
  return daemon.exited;
}
