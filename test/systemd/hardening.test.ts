/**
 * The real daemon under the hardening of rollcall.service, reproduced without systemd
 * (systemd is not PID 1 on the machines that run these tests): namespaces and mounts from
 * sandbox.sh, user, capabilities and no_new_privs from setpriv, and the system call filter
 * from seccomp-exec.py, which takes its syscall groups from systemd-analyze itself. Needs
 * root (to build the namespaces) and x86-64; skips and says so otherwise.
 *
 * First the sandbox is shown to do what it claims (a probe inside it), so that the daemon
 * running in it means something; then the daemon runs the production config (gateway
 * swapped for the embedded simulator) through start, notify, watchdog, reload and stop.
 * Last, MemoryDenyWriteExecute, which the unit leaves out, is shown to kill Node.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { chmod, chown, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { freePort, repoRoot, runCli } from '../helpers/daemon-process.js';
import { findTool, systemdDir } from './unit-file.js';

/** nobody:nogroup stands in for rollcall:rollcall, which the test machine does not have. */
const UID = 65534;
const GID = 65534;
const SANDBOX = join(repoRoot, 'test', 'systemd', 'sandbox.sh');
const NODE = '/usr/bin/node';
const CONFIG_IN_SANDBOX = '/run/etc-rollcall/rollcall.yaml';
const NOTIFY_IN_SANDBOX = '/run/rollcall-notify/notify.sock';

interface DatagramServer {
  bind(path: string): void;
  close(): void;
}
type UnixDgram = { createSocket(type: 'unix_dgram', listener: (message: Buffer) => void): DatagramServer };

/** Why this machine cannot run the sandbox, or undefined when it can. */
async function cannotSandbox(): Promise<string | undefined> {
  if (process.platform !== 'linux' || arch() !== 'x64') return 'the sandbox is written for Linux on x86-64';
  if (process.getuid?.() !== 0) return 'building the namespaces needs root';
  for (const tool of ['unshare', 'setpriv', 'mknod', 'systemd-analyze']) {
    if ((await findTool(tool)) === undefined) return `${tool} is not installed`;
  }
  for (const file of ['/usr/bin/python3', NODE, '/usr/include/x86_64-linux-gnu/asm/unistd_64.h']) {
    try {
      await stat(file);
    } catch {
      return `${file} is missing`;
    }
  }
  return undefined;
}

/** Folders standing in for /var/lib/rollcall, /var/spool/rollcall, /run/rollcall, /etc/rollcall. */
interface Host {
  root: string;
  state: string;
  spool: string;
  runtime: string;
  etc: string;
  notify: string;
}

async function makeHost(): Promise<Host> {
  const root = await mkdtemp(join(tmpdir(), 'rollcall-sandbox-'));
  // The daemon runs as nobody and must reach its folders through this one.
  await chmod(root, 0o755);
  const host: Host = {
    root,
    state: join(root, 'state'),
    spool: join(root, 'spool'),
    runtime: join(root, 'run'),
    etc: join(root, 'etc'),
    notify: join(root, 'notify'),
  };
  for (const dir of [host.state, host.spool, host.runtime, host.etc, host.notify]) await mkdir(dir);
  // As StateDirectory=, RuntimeDirectory= and rollcall.tmpfiles leave them.
  for (const [dir, mode] of [
    [host.state, 0o700],
    [host.runtime, 0o750],
    [host.spool, 0o750],
  ] as const) {
    await chown(dir, UID, GID);
    await chmod(dir, mode);
  }
  for (const [name, mode] of [
    ['incoming', 0o2770],
    ['processing', 0o750],
    ['done', 0o750],
    ['failed', 0o750],
    ['outgoing', 0o750],
  ] as const) {
    await mkdir(join(host.spool, name));
    await chown(join(host.spool, name), UID, GID);
    await chmod(join(host.spool, name), mode);
  }
  await chmod(host.etc, 0o755);
  await chmod(host.notify, 0o755);
  return host;
}

interface Sandboxed {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `command` in the sandbox, inside fresh mount, UTS, IPC and PID namespaces. */
function sandboxed(host: Host, command: string[], env: NodeJS.ProcessEnv = {}): Sandboxed {
  const child = spawn(
    'unshare',
    ['--mount', '--uts', '--ipc', '--pid', '--fork', '--propagation', 'private', '--kill-child', 'sh', SANDBOX, host.state, host.spool, host.runtime, host.etc, String(UID), String(GID), '--', ...command],
    { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', SANDBOX_NOTIFY_DIR: host.notify, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const run: Sandboxed = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal }))),
  };
  child.stdout!.on('data', (d: Buffer) => (run.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (run.stderr += d.toString()));
  return run;
}

/** The host PID of the sandbox's first process (unshare's only child), which becomes node. */
async function sandboxPid(run: Sandboxed): Promise<number> {
  const pid = run.child.pid!;
  for (let i = 0; i < 600; i++) {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
    const first = text.trim().split(/\s+/)[0];
    if (first) return Number(first);
    if (run.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no process inside the sandbox; stderr: ${run.stderr}`);
}

const PROBE = `
const fs = require('fs'), os = require('os');
const r = {};
const attempt = (k, f) => { try { const v = f(); r[k] = v === undefined ? 'ok' : v; } catch (e) { r[k] = e.code || e.message; } };
attempt('uid', () => process.getuid());
attempt('gid', () => process.getgid());
attempt('status', () => Object.fromEntries(fs.readFileSync('/proc/self/status', 'utf8').split('\\n').filter(l => /^(CapBnd|CapEff|CapAmb|NoNewPrivs|Seccomp):/.test(l)).map(l => l.split(/:\\s+/))));
attempt('writeUsr', () => fs.writeFileSync('/usr/rollcall-probe', 'x'));
attempt('writeEtc', () => fs.writeFileSync('/etc/rollcall-probe', 'x'));
attempt('writeOpt', () => fs.writeFileSync('${repoRoot}/rollcall-probe', 'x'));
attempt('writeState', () => { fs.writeFileSync('/var/lib/rollcall/probe', 'x'); return (fs.statSync('/var/lib/rollcall/probe').mode & 0o777).toString(8); });
attempt('writeSpool', () => fs.writeFileSync('/var/spool/rollcall/incoming/probe', 'x'));
attempt('writeRun', () => fs.writeFileSync('/run/rollcall/probe', 'x'));
attempt('tmpEntries', () => fs.readdirSync('/tmp'));
attempt('meminfo', () => fs.readFileSync('/proc/meminfo', 'utf8').length);
attempt('otherPids', () => fs.readdirSync('/proc').filter(n => /^\\d+$/.test(n) && Number(n) !== process.pid).length);
attempt('sysWrite', () => fs.writeFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'never'));
attempt('dev', () => fs.readdirSync('/dev').sort().join(','));
attempt('home', () => fs.readdirSync('/root'));
attempt('netlink', () => { os.networkInterfaces(); });
attempt('setuidBit', () => { fs.writeFileSync('/var/lib/rollcall/suid', 'x'); fs.chmodSync('/var/lib/rollcall/suid', 0o4750); });
attempt('hostname', () => os.hostname());
console.log(JSON.stringify(r));
`;

describe('rollcall.service hardening, reproduced without systemd', () => {
  let reason: string | undefined;
  let unixDgram: UnixDgram | undefined;
  const hosts: Host[] = [];
  before(async () => {
    reason = await cannotSandbox();
    try {
      unixDgram = createRequire(import.meta.url)('unix-dgram') as UnixDgram;
    } catch {
      unixDgram = undefined;
    }
  });
  after(async () => {
    for (const host of hosts) await rm(host.root, { recursive: true, force: true });
  });

  test('the sandbox enforces what it claims', { timeout: 60_000 }, async (t) => {
    if (reason !== undefined) return t.skip(`SKIPPED: ${reason}; the hardening was NOT exercised`);
    const host = await makeHost();
    hosts.push(host);
    const run = sandboxed(host, [NODE, '-e', PROBE]);
    const exit = await run.exited;
    assert.equal(exit.code, 0, run.stderr);
    const seen = JSON.parse(run.stdout) as Record<string, unknown>;
    const status = seen.status as Record<string, string>;
    const expected: [what: string, actual: unknown, wanted: unknown][] = [
      ['User=', seen.uid, UID],
      ['Group=', seen.gid, GID],
      ['CapabilityBoundingSet= (empty)', status.CapBnd, '0000000000000000'],
      ['no effective capabilities', status.CapEff, '0000000000000000'],
      ['NoNewPrivileges=yes', status.NoNewPrivs, '1'],
      ['SystemCallFilter= (seccomp filter mode)', status.Seccomp, '2'],
      ['ProtectSystem=strict: /usr', seen.writeUsr, 'EROFS'],
      ['ProtectSystem=strict: /etc', seen.writeEtc, 'EROFS'],
      ['ProtectSystem=strict: the installed program', seen.writeOpt, 'EROFS'],
      ['StateDirectory= is writable, UMask=0027', seen.writeState, '640'],
      ['ReadWritePaths=/var/spool/rollcall', seen.writeSpool, 'ok'],
      ['RuntimeDirectory=', seen.writeRun, 'ok'],
      // Empty, but for the way to the checkout under test when it lives under /tmp itself.
      ['PrivateTmp=yes (empty /tmp)', seen.tmpEntries, repoRoot.startsWith('/tmp/') ? [repoRoot.split('/')[2]] : []],
      ['ProcSubset=pid', seen.meminfo, 'ENOENT'],
      ['ProtectProc=invisible (own PID namespace)', seen.otherPids, 0],
      ['ProtectKernelTunables=yes', seen.sysWrite, 'EROFS'],
      ['PrivateDevices=yes', seen.dev, 'fd,full,null,ptmx,pts,random,shm,stderr,stdin,stdout,tty,urandom,zero'],
      ['ProtectHome=yes', seen.home, 'EACCES'],
      ['RestrictAddressFamilies= (no AF_NETLINK)', seen.netlink, 'ERR_SYSTEM_ERROR'],
      ['RestrictSUIDSGID=yes', seen.setuidBit, 'EPERM'],
    ];
    for (const [what, actual, wanted] of expected) assert.deepEqual(actual, wanted, what);
  });

  test('the daemon runs its whole life under it: notify, watchdog, sync, metrics, reload, stop', { timeout: 120_000 }, async (t) => {
    if (reason !== undefined) return t.skip(`SKIPPED: ${reason}; the hardening was NOT exercised`);
    if (unixDgram === undefined) return t.skip('SKIPPED: the unix-dgram addon is not built; the daemon cannot notify');
    const host = await makeHost();
    hosts.push(host);

    // The production config, with the gateway swapped for the embedded simulator, a free
    // HTTP port, seed users to push and the daemon's own paths where the schema has them.
    const production = parseYaml(await readFile(join(systemdDir, 'rollcall.yaml'), 'utf8')) as Record<string, unknown>;
    const port = await freePort();
    const config: Record<string, unknown> = {
      ...production,
      http: { listen: `127.0.0.1:${port}` },
      gateway: { address: 'embedded' },
      devices: [],
      seed: { users: [{ id: '1', name: 'Ann' }, { id: '2', name: 'Bob', csn: '7654321' }] },
    };
    const schema = JSON.parse((await runCli(['config-schema'])).stdout) as { properties: Record<string, { properties?: Record<string, unknown> }> };
    if (schema.properties.spool?.properties?.dir !== undefined) config.spool = { ...(config.spool as object), dir: '/var/spool/rollcall' };
    if (schema.properties.admin?.properties?.socket !== undefined) config.admin = { ...(config.admin as object), socket: '/run/rollcall/rollcall.sock' };
    await writeFile(join(host.etc, 'rollcall.yaml'), toYaml(config));

    const messages: string[] = [];
    const socketPath = join(host.notify, 'notify.sock');
    const socket = unixDgram.createSocket('unix_dgram', (m) => messages.push(m.toString('utf8')));
    socket.bind(socketPath);
    await chmod(socketPath, 0o777);
    const fields = (): string[] => messages.flatMap((m) => m.split('\n'));
    // Bounded by tries (about a minute), not asserted on time: a slow machine only waits longer.
    const waitFor = async (done: () => boolean | Promise<boolean>, what: string): Promise<void> => {
      let ok = await done();
      for (let i = 0; i < 1200 && !ok && run.child.exitCode === null; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        ok = await done();
      }
      assert.ok(ok, `${what}; datagrams: ${JSON.stringify(messages)}; stderr: ${run.stderr}; stdout tail: ${run.stdout.slice(-2000)}`);
    };
    const scrape = async (path: string): Promise<{ status: number; text: string }> => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: response.status, text: await response.text() };
    };

    const run = sandboxed(host, [NODE, join(repoRoot, 'dist', 'daemon', 'main.js'), 'run', '--config', CONFIG_IN_SANDBOX], {
      NOTIFY_SOCKET: NOTIFY_IN_SANDBOX,
      WATCHDOG_USEC: '1000000',
    });
    try {
      const pid = await sandboxPid(run);
      await waitFor(() => fields().includes('READY=1'), 'READY=1 through NOTIFY_SOCKET');
      await waitFor(() => fields().filter((f) => f === 'WATCHDOG=1').length >= 2, 'repeated WATCHDOG=1');
      assert.equal((await scrape('/readyz')).status, 200);
      // Pushed over gRPC on loopback (AF_INET) to every virtual device.
      const allInSync = async (): Promise<boolean> => {
        const { text } = await scrape('/metrics');
        return ['1001', '1002', '1003'].every((id) => text.includes(`rollcall_device_in_sync{device="${id}"} 1`));
      };
      await waitFor(allInSync, 'every device in sync');
      const metrics = await scrape('/metrics');
      assert.equal(metrics.status, 200);
      // prom-client reads /proc/self/{stat,status,fd,limits}: ProcSubset=pid keeps those.
      assert.match(metrics.text, /^process_open_fds \d+/m);
      assert.match(metrics.text, /^process_max_fds \d+/m);
      assert.match(metrics.text, /^process_resident_memory_bytes [1-9]/m);
      assert.match(metrics.text, /^rollcall_users 2$/m);

      const before = messages.length;
      process.kill(pid, 'SIGHUP');
      await waitFor(() => run.stdout.includes('"msg":"config reloaded"'), 'the reload');
      await waitFor(() => messages.slice(before).some((m) => m.split('\n').includes('READY=1')), 'READY=1 after the reload');
      assert.ok(messages.slice(before).some((m) => m.split('\n').includes('RELOADING=1')), 'RELOADING=1');

      process.kill(pid, 'SIGTERM');
      const exit = await run.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, run.stderr);
      assert.ok(fields().includes('STOPPING=1'));
      assert.match(run.stdout, /"msg":"stopped"/);
      assert.doesNotMatch(run.stdout, /"level":"(error|fatal)"/, 'no error logged');
      assert.match(run.stdout, /"level":"info"/, 'the log lines are what the pattern above reads');

      // Everything the daemon wrote is its own and closed to others (UMask=0027).
      const files = await walk(host.state);
      assert.ok(files.some((f) => f.path.includes(join('plugins', 'storage', 'level'))), 'the store is in the state directory');
      for (const file of files) {
        assert.equal(file.uid, UID, `${file.path} is owned by the service user`);
        assert.equal(file.mode & 0o007, 0, `${file.path} has no permission bits for others`);
      }
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
      await run.exited;
      socket.close();
    }
  });

  test('MemoryDenyWriteExecute (left out of the unit) kills Node', { timeout: 60_000 }, async (t) => {
    if (reason !== undefined) return t.skip(`SKIPPED: ${reason}`);
    const host = await makeHost();
    hosts.push(host);
    const hot = 'let s = 0; const f = (x) => x * 2 + 1; for (let i = 0; i < 1e6; i++) s += f(i); console.log(s);';
    const control = sandboxed(host, [NODE, '-e', hot]);
    const controlExit = await control.exited;
    assert.equal(controlExit.code, 0, `without MDWE the same script runs: ${control.stderr}`);
    const run = sandboxed(host, [NODE, '-e', hot], { SANDBOX_MDWE: '1' });
    const exit = await run.exited;
    if (/PR_SET_MDWE/.test(run.stderr) && /Invalid argument/.test(run.stderr)) return t.skip('SKIPPED: this kernel has no PR_SET_MDWE (Linux 6.3+)');
    assert.notEqual(exit.code, 0, 'node must not survive MemoryDenyWriteExecute');
    assert.match(run.stderr, /Check failed|Fatal error|SetPermissions/);
  });
});

async function walk(dir: string): Promise<{ path: string; uid: number; mode: number }[]> {
  const out: { path: string; uid: number; mode: number }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const info = await stat(path);
    out.push({ path, uid: info.uid, mode: info.mode });
    if (entry.isDirectory()) out.push(...(await walk(path)));
  }
  return out;
}
