// DEBIAN/ for the package: control (with the libraries the native addons link, as
// dpkg-shlibdeps reads them), conffiles, the maintainer scripts and md5sums.
import { chmodSync, cpSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, relative } from 'node:path';
import { findFiles, run } from './files.mjs';

export function writeControl(root, build) {
  const { packaging, debianVersion, arch, maintainer } = build;
  const control = join(root, 'DEBIAN');
  mkdirSync(control);
  const installedKiB = Number(run('du', ['-sk', '--apparent-size', root]).split('\t')[0]);
  writeFileSync(
    join(control, 'control'),
    [
      'Package: rollcall',
      `Version: ${debianVersion}`,
      `Architecture: ${arch}`,
      `Maintainer: ${maintainer}`,
      `Installed-Size: ${installedKiB}`,
      // systemd: the postinst runs systemd-sysusers and systemd-tmpfiles, and the unit is the way to run it.
      `Depends: ${['nodejs (>= 20.19)', 'systemd', ...libraryDepends(root, build.stage)].join(', ')}`,
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

/** The shared libraries the native addons need, as Debian's own dpkg-shlibdeps reads them (libc6, libstdc++6 …). */
function libraryDepends(root, stage) {
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
