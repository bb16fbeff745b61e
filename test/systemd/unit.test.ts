/**
 * systemd/: the unit says what issue 6 asks for, systemd's own tools accept it
 * (`systemd-analyze verify` clean, `security` exposure low), the sysusers and tmpfiles
 * snippets make the user and the spool they promise (run for real with --root into a
 * temp dir), and the production config validates and writes only where the unit lets it.
 * Without systemd-analyze (not a Debian-like host) those checks skip and say why.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { runCli } from '../helpers/daemon-process.js';
import {
  CONFIG_PATH,
  INSTALL_ROOT,
  NODE_BINARY,
  findTool,
  parseUnit,
  pointAtCheckout,
  readUnit,
  runTool,
  systemdDir,
  value,
  values,
  writeUnitCopy,
} from './unit-file.js';

const SKIP_NO_ANALYZE = 'SKIPPED: systemd-analyze is not installed (Debian: apt-get install systemd); the unit was NOT verified';

describe('systemd/rollcall.service', () => {
  let dir: string;
  let analyze: string | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rollcall-unit-'));
    analyze = await findTool('systemd-analyze');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('declares what the issue asks for', async () => {
    const { unit } = await readUnit();
    const expected: [section: string, key: string, check: string | RegExp][] = [
      ['Service', 'Type', 'notify'],
      ['Service', 'ExecStartPre', `${NODE_BINARY} ${INSTALL_ROOT}/dist/daemon/main.js check-config --config ${CONFIG_PATH}`],
      ['Service', 'ExecStart', `${NODE_BINARY} ${INSTALL_ROOT}/dist/daemon/main.js run --config ${CONFIG_PATH}`],
      ['Service', 'ExecReload', /^\/bin\/kill -HUP \$MAINPID$/],
      ['Service', 'WatchdogSec', /^\d+s$/],
      ['Service', 'Restart', 'on-failure'],
      ['Service', 'User', 'rollcall'],
      ['Service', 'Group', 'rollcall'],
      ['Service', 'StateDirectory', 'rollcall'],
      ['Service', 'RuntimeDirectory', 'rollcall'],
      ['Service', 'ReadWritePaths', '/var/spool/rollcall'],
      ['Service', 'ProtectSystem', 'strict'],
      ['Service', 'NoNewPrivileges', 'yes'],
      ['Service', 'CapabilityBoundingSet', ''],
      ['Service', 'RestrictAddressFamilies', 'AF_UNIX AF_INET AF_INET6'],
      ['Service', 'SystemCallFilter', '@system-service'],
      ['Service', 'UMask', '0027'],
      ['Install', 'WantedBy', 'multi-user.target'],
    ];
    for (const [section, key, check] of expected) {
      const actual = section === 'Service' && key === 'SystemCallFilter' ? values(unit, section, key)[0] : value(unit, section, key);
      assert.notEqual(actual, undefined, `${section}.${key} is set`);
      if (typeof check === 'string') assert.equal(actual, check, `${section}.${key}`);
      else assert.match(actual!, check, `${section}.${key}`);
    }
    // The watchdog must leave the daemon's heartbeat (every WatchdogSec/2) room to arrive.
    assert.ok(Number(/^(\d+)s$/.exec(value(unit, 'Service', 'WatchdogSec')!)![1]) >= 10);
    // Node's JIT cannot run under it (hardening.test.ts shows V8 aborting).
    assert.equal(value(unit, 'Service', 'MemoryDenyWriteExecute'), undefined);
  });

  test('systemd-analyze verify is clean', async (t) => {
    if (analyze === undefined) return t.skip(SKIP_NO_ANALYZE);
    const { text } = await readUnit();
    const path = await writeUnitCopy(dir, pointAtCheckout(text, join(systemdDir, 'rollcall.yaml')));
    const result = await runTool(analyze, ['verify', path]);
    assert.equal(result.code, 0, result.stderr);
    // verify exits 0 on unknown keys and bad values too, and only says so: silence is clean.
    assert.equal(`${result.stdout}${result.stderr}`.trim(), '');
  });

  test('the verify check catches a misspelled option and a missing binary', async (t) => {
    if (analyze === undefined) return t.skip(SKIP_NO_ANALYZE);
    const { text } = await readUnit();
    const sub = join(dir, 'broken');
    await mkdir(sub);
    const misspelled = await writeUnitCopy(sub, pointAtCheckout(text, join(systemdDir, 'rollcall.yaml')).replace('ProtectSystem=strict', 'ProtectSytem=strict'));
    const typo = await runTool(analyze, ['verify', misspelled]);
    assert.match(typo.stderr, /Unknown key.*ProtectSytem/);
    // The unit as shipped, on a host without /opt/rollcall: verify refuses it.
    const asShipped = await writeUnitCopy(sub, text.replaceAll(NODE_BINARY, '/nonexistent/node'));
    const missing = await runTool(analyze, ['verify', asShipped]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /\/nonexistent\/node/);
  });

  test('systemd-analyze security rates the exposure 2.0 or lower', async (t) => {
    if (analyze === undefined) return t.skip(SKIP_NO_ANALYZE);
    const { text } = await readUnit();
    const sub = join(dir, 'security');
    await mkdir(sub);
    const path = await writeUnitCopy(sub, pointAtCheckout(text, join(systemdDir, 'rollcall.yaml')));
    // --threshold is on systemd's 0-100 scale: 20 is an exposure of 2.0.
    const result = await runTool(analyze, ['security', '--offline=yes', '--threshold=20', '--no-pager', path]);
    const level = /Overall exposure level for rollcall\.service: (\d+\.\d+)/.exec(result.stdout);
    assert.ok(level, `no exposure level in: ${result.stdout}${result.stderr}`);
    assert.ok(Number(level[1]) <= 2.0, `exposure ${level[1]}`);
    assert.equal(result.code, 0, result.stdout.split('\n').filter((l) => l.includes('✗')).join('\n'));
  });

  test('the sysusers and tmpfiles snippets make the user and the spool with their modes', async (t) => {
    const sysusers = await findTool('systemd-sysusers');
    const tmpfiles = await findTool('systemd-tmpfiles');
    if (sysusers === undefined || tmpfiles === undefined) return t.skip('SKIPPED: systemd-sysusers or systemd-tmpfiles is not installed; the snippets were NOT run');
    const root = join(dir, 'root');
    await mkdir(join(root, 'etc'), { recursive: true });
    const users = await runTool(sysusers, [`--root=${root}`, join(systemdDir, 'rollcall.sysusers')]);
    assert.equal(users.code, 0, users.stderr);
    const passwd = (await readFile(join(root, 'etc', 'passwd'), 'utf8')).split('\n').find((l) => l.startsWith('rollcall:'));
    assert.ok(passwd, 'rollcall is in passwd');
    const [, , uid, gid, , home, shell] = passwd.split(':');
    assert.ok(Number(uid) < 1000, `a system user (uid ${uid})`);
    assert.equal(home, '/var/lib/rollcall');
    assert.match(shell!, /nologin$/);
    assert.ok((await readFile(join(root, 'etc', 'group'), 'utf8')).split('\n').some((l) => l === `rollcall:x:${gid}:`));

    const made = await runTool(tmpfiles, [`--root=${root}`, '--create', join(systemdDir, 'rollcall.tmpfiles')]);
    assert.equal(made.code, 0, made.stderr);
    const expected: [string, number][] = [
      ['', 0o750],
      ['incoming', 0o2770],
      ['processing', 0o750],
      ['done', 0o750],
      ['failed', 0o750],
      ['outgoing', 0o750],
    ];
    for (const [name, mode] of expected) {
      const info = await stat(join(root, 'var', 'spool', 'rollcall', name));
      assert.ok(info.isDirectory(), name);
      assert.equal(info.mode & 0o7777, mode, `mode of spool/${name}`);
      assert.equal(info.uid, Number(uid), `owner of spool/${name}`);
      assert.equal(info.gid, Number(gid), `group of spool/${name}`);
    }
  });

  test('every ReadWritePaths= is made by the tmpfiles snippet (the unit fails to start otherwise)', async () => {
    const { unit } = await readUnit();
    const tmpfiles = await readFile(join(systemdDir, 'rollcall.tmpfiles'), 'utf8');
    const made = new Set(
      tmpfiles
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f[0] === 'd')
        .map((f) => f[1]),
    );
    const writable = values(unit, 'Service', 'ReadWritePaths').flatMap((v) => v.split(/\s+/));
    assert.ok(writable.length > 0);
    for (const path of writable) assert.ok(made.has(path.replace(/^-/, '')), `${path} is created by rollcall.tmpfiles`);
  });

  test('the production config validates and writes only where the unit allows', async () => {
    const path = join(systemdDir, 'rollcall.yaml');
    const checked = await runCli(['check-config', '--config', path]);
    assert.equal(checked.code, 0, checked.stderr);

    const { unit } = await readUnit();
    const writable = [
      ...values(unit, 'Service', 'StateDirectory').map((d) => `/var/lib/${d}`),
      ...values(unit, 'Service', 'RuntimeDirectory').map((d) => `/run/${d}`),
      ...values(unit, 'Service', 'ReadWritePaths').flatMap((v) => v.split(/\s+/)),
    ];
    const inside = (p: string): boolean => writable.some((w) => p === w || p.startsWith(`${w}/`));
    const config = parseYaml(await readFile(path, 'utf8')) as Record<string, unknown>;
    assert.ok(inside(config.dataDir as string), `dataDir ${String(config.dataDir)}`);
    assert.equal(config.dataDir, '/var/lib/rollcall');
    // Paths the daemon writes to, where the keys exist in this version of the schema:
    // the drop folder (spool.dir) and the admin socket (admin.socket). A key the schema
    // has but the production config leaves to its default would point under /etc/rollcall
    // (relative paths are read from the config's folder), which is read-only there.
    const schema = await runCli(['config-schema']);
    assert.equal(schema.code, 0, schema.stderr);
    const properties = (JSON.parse(schema.stdout) as { properties: Record<string, { properties?: Record<string, unknown> }> }).properties;
    const written: [group: string, key: string, under: string][] = [
      ['spool', 'dir', '/var/spool/rollcall'],
      ['admin', 'socket', '/run/rollcall'],
    ];
    for (const [group, key, under] of written) {
      if (properties[group]?.properties?.[key] === undefined) continue;
      const set = (config[group] as Record<string, unknown> | undefined)?.[key];
      assert.equal(typeof set, 'string', `systemd/rollcall.yaml must set ${group}.${key} (under ${under}) now that the schema has it`);
      assert.ok((set as string) === under || (set as string).startsWith(`${under}/`), `${group}.${key} = ${String(set)}`);
      assert.ok(inside(set as string), `${group}.${key} is writable under the unit`);
    }
  });

  test('the unit file parser reads repeated keys and refuses garbage', () => {
    const unit = parseUnit('[Service]\nSystemCallFilter=@system-service\nSystemCallFilter=~@privileged\n# c\nType=notify\n');
    assert.deepEqual(values(unit, 'Service', 'SystemCallFilter'), ['@system-service', '~@privileged']);
    assert.equal(value(unit, 'Service', 'Type'), 'notify');
    assert.throws(() => parseUnit('Type=notify\n'));
  });
});
