/**
 * A test fixture, never shipped: a tiny package that tells dpkg about a node it does not
 * know. rollcall's package `Depends: nodejs (>= 20.19)`; on a machine whose node was
 * installed without dpkg (a tarball, nvm, a CI image's toolcache) that dependency cannot
 * be met and `dpkg -i` fails before anything is tested. The stand-in `Provides: nodejs (=
 * <the version of the node running the test>)`, says in its description which node it
 * stands for, and puts /usr/bin/node (the path the unit and /usr/bin/rollcall run) as a
 * symlink to it only when that path is free. The install test installs it only when
 * nodejs is not dpkg-known, and purges it at the end.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../helpers/daemon-process.js';

export const STAND_IN_PACKAGE = 'rollcall-test-nodejs';

/** Whether dpkg has a nodejs package installed (not only known from a removed one). */
export async function nodejsKnownToDpkg(): Promise<boolean> {
  const query = await runCommand('dpkg-query', ['-W', '-f=${Status}', 'nodejs']);
  return query.code === 0 && query.stdout.includes('install ok installed');
}

/** Builds the stand-in .deb in `dir` for the node at `nodePath`; returns its path. */
export async function buildNodejsStandIn(dir: string, nodePath: string = process.execPath): Promise<string> {
  const root = join(dir, 'nodejs-stand-in');
  await mkdir(join(root, 'DEBIAN'), { recursive: true });
  const linksUsrBinNode = !existsSync('/usr/bin/node') && nodePath !== '/usr/bin/node';
  if (linksUsrBinNode) {
    await mkdir(join(root, 'usr', 'bin'), { recursive: true });
    await symlink(nodePath, join(root, 'usr', 'bin', 'node'));
  }
  const arch = (await runCommand('dpkg', ['--print-architecture'])).stdout.trim();
  await writeFile(
    join(root, 'DEBIAN', 'control'),
    [
      `Package: ${STAND_IN_PACKAGE}`,
      `Version: ${process.versions.node}`,
      `Architecture: ${arch}`,
      'Maintainer: rollcall install test <maintainers@users.noreply.h-seed-56d82c64.example>',
      `Provides: nodejs (= ${process.versions.node})`,
      'Section: devel',
      'Priority: optional',
      `Description: test fixture: stands for the node at ${nodePath}`,
      ` Made by rollcall's install test (test/package) so that rollcall's Depends on nodejs`,
      ` is met by the node ${process.version} found at ${nodePath}, which dpkg does not know.`,
      linksUsrBinNode ? ` It links /usr/bin/node to that node. Never shipped; purged by the test.` : ' Never shipped; purged by the test.',
      '',
    ].join('\n'),
  );
  const deb = join(dir, `${STAND_IN_PACKAGE}_${process.versions.node}_${arch}.deb`);
  const built = await runCommand('dpkg-deb', ['--root-owner-group', '--build', root, deb]);
  if (built.code !== 0) throw new Error(`the nodejs stand-in did not build: ${built.stderr}`);
  return deb;
}
