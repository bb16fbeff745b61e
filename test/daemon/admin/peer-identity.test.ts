/**
 * The admin API knows callers by the kernel: the real admin server (admin harness: LevelDB,
 * simulator over gRPC, drop folder) and the real `rollcall` CLI run as another uid with
 * `setpriv` (uid 65534 "nobody", with chosen groups; nothing is added to /etc/passwd). The
 * readers' and operators' groups are two groups that exist on any Debian-like system and
 * that nobody is not in: `users` and `staff`.
 *
 * Needs root (to switch uid), setpriv, perl and both groups; skips saying so otherwise.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AdminHarness, cliEntry } from './admin-harness.js';
import { repoRoot, runCommand, type CliResult } from '../../helpers/daemon-process.js';
import { groupId } from '../../../daemon/admin/peer-credentials.js';

const NOBODY = 65534;

function available(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to run the client as another uid';
  for (const tool of ['setpriv', 'perl', 'getent']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `needs ${tool}`;
    }
  }
  return undefined;
}

/** Runs `node ARGS` as uid 65534 with exactly `groups` (numeric gids). */
function asNobody(groups: number[], args: string[]): Promise<CliResult> {
  const groupArgs = groups.length > 0 ? [`--groups=${groups.join(',')}`] : ['--clear-groups'];
  return runCommand('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, ...groupArgs, process.execPath, ...args], { env: { HOME: '/nonexistent' } });
}

const skip = available();

describe('admin callers are known by their uid from the kernel', { skip }, () => {
  let h: AdminHarness;
  let readers: number;
  let operators: number;
  let groupsMissing: string | undefined;

  before(async () => {
    const [r, o] = await Promise.all([groupId('users'), groupId('staff')]);
    if (r === undefined || o === undefined) {
      groupsMissing = 'needs the groups users and staff';
      return;
    }
    [readers, operators] = [r, o];
    h = await AdminHarness.start({
      // nobody must be able to reach the socket's folder; the socket itself is 0660 root:users.
      prepare: async (dir) => {
        await chmod(dir, 0o755);
        await mkdir(join(dir, 'run'), { mode: 0o755 });
      },
      server: { access: { readersGroup: 'users', operatorsGroup: 'staff' } },
    });
  });
  after(async () => {
    await h?.stop();
  });

  const cli = (groups: number[], args: string[]): Promise<CliResult> => asNobody(groups, [cliEntry, ...args, '--socket', h.socketPath, '--json']);

  test('a reader may read but not run users set; nothing is stored and the refusal is logged with its uid', async (t) => {
    if (groupsMissing) return t.skip(groupsMissing);
    const status = await cli([readers], ['status']);
    assert.equal(status.code, 0, status.stderr + status.stdout);
    const refused = await cli([readers], ['users', 'set', '9101', '--name', 'Mallory']);
    assert.equal(refused.code, 77, refused.stdout + refused.stderr);
    const body = JSON.parse(refused.stdout) as { error: { status: string; code: string; message: string } };
    assert.equal(body.error.status, 'PERMISSION_DENIED');
    assert.equal(body.error.code, 'ROLLCALL_ERR_ADMIN_FORBIDDEN');
    assert.match(body.error.message, /nobody \(uid 65534\) may read but not change: SetUser needs the staff group/);
    assert.equal(await h.store.getUser('9101'), undefined);
    const logged = h.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.code === 'ROLLCALL_ERR_ADMIN_FORBIDDEN' && l.method === 'SetUser');
    assert.equal(logged?.uid, NOBODY);
  });

  test('outside both groups the kernel refuses the connection (exit 77)', async (t) => {
    if (groupsMissing) return t.skip(groupsMissing);
    const outsider = await cli([], ['status']);
    assert.equal(outsider.code, 77, outsider.stdout + outsider.stderr);
  });

  test('an operator\'s change is recorded under the uid the kernel gave, whatever name the client claims', async (t) => {
    if (groupsMissing) return t.skip(groupsMissing);
    const set = await cli([readers, operators], ['users', 'set', '9102', '--name', 'Olga']);
    assert.equal(set.code, 0, set.stdout + set.stderr);
    // A client that lies about its name in the metadata: the raw gRPC client, as nobody.
    const script = join(h.dir, 'claim-root.mjs');
    await writeFile(
      script,
      [
        `import { credentials, Metadata } from ${JSON.stringify(join(repoRoot, 'node_modules/@grpc/grpc-js/build/src/index.js'))};`,
        `import { AdminClient } from ${JSON.stringify(join(repoRoot, 'dist/proto/gen/rollcall/admin/v1/admin.js'))};`,
        `const client = new AdminClient('unix:${h.socketPath}', credentials.createInsecure());`,
        `const metadata = new Metadata(); metadata.set('rollcall-operator', 'root');`,
        `client.setUser({ users: [{ userJson: JSON.stringify({ id: '9103', name: 'Forged' }), pin: '' }], replace: false }, metadata, (error) => { console.log(error ? error.code : 'ok'); process.exit(0); });`,
      ].join('\n'),
    );
    await chmod(script, 0o644);
    const claimed = await asNobody([readers, operators], [script]);
    assert.equal(claimed.stdout.trim(), 'ok', claimed.stderr);

    const events = await h.store.queryEvents({ kind: 'user.update.server' });
    const detailOf = (userId: string): Record<string, unknown> | undefined => events.find((e) => e.userId === userId)?.detail as Record<string, unknown> | undefined;
    assert.deepEqual({ by: detailOf('9102')?.by, uid: detailOf('9102')?.uid }, { by: 'nobody', uid: NOBODY });
    assert.deepEqual({ by: detailOf('9103')?.by, uid: detailOf('9103')?.uid, claimedBy: detailOf('9103')?.claimedBy }, { by: 'nobody', uid: NOBODY, claimedBy: 'root' });
    const logLine = h.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.method === 'SetUser' && l.claimedBy === 'root');
    assert.equal(logLine?.uid, NOBODY);
    assert.equal(logLine?.user, 'nobody');
  });
});
