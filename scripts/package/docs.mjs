// /usr/share for the package: the copyright file (with every bundled npm package), the
// changelog, the lintian overrides and the man page, as Debian policy asks of a package.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { packageDirs } from './dependencies.mjs';
import { run } from './files.mjs';

/** /usr/share: the copyright file and a changelog (doc/rollcall), the lintian overrides, the man page. */
export function stageDocs(root, build) {
  const { packaging, debianVersion, maintainer, revision } = build;
  const doc = join(root, 'usr', 'share', 'doc', 'rollcall');
  mkdirSync(doc, { recursive: true });
  writeFileSync(join(doc, 'copyright'), copyright(join(root, 'opt', 'rollcall', 'node_modules'), packaging));
  const date = new Date().toUTCString().replace('GMT', '+0000');
  const changelog =
    `rollcall (${debianVersion}) unstable; urgency=medium\n\n` +
    `  * Built by \`npm run package\` from ${revision ? `git revision ${revision}` : 'a checkout without git'}.\n` +
    `    The project's history is its git log.\n\n` +
    ` -- ${maintainer}  ${date}\n`;
  // gzip without a name or time in the header (-n), as Debian wants for reproducible packages.
  writeFileSync(join(doc, 'changelog.gz'), gzipSync(changelog, { level: 9 }));
  // The tags lintian reports that are this package's design, each with its reason.
  const overrides = join(root, 'usr', 'share', 'lintian', 'overrides');
  mkdirSync(overrides, { recursive: true });
  cpSync(join(packaging, 'lintian-overrides'), join(overrides, 'rollcall'));
  const man = join(root, 'usr', 'share', 'man', 'man1');
  mkdirSync(man, { recursive: true });
  writeFileSync(join(man, 'rollcall.1.gz'), gzipSync(manPage(build), { level: 9 }));
}

/** rollcall(1): the CLI's own --help, so the page says what the program says. */
function manPage({ repo, version }) {
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

/** packaging/deb/copyright, then one stanza per bundled npm package with the license its package.json names. */
function copyright(modules, packaging) {
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
