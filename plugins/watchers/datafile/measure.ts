/**
 * Measures the data file at full size: exports N synthetic users with templates and a
 * photo, then verifies the file and reads every record, each phase in its own process so
 * that its peak RSS is its own. Not part of the test suite (it takes minutes):
 *
 *   node dist/plugins/watchers/datafile/measure.js [--users 500000] [--photo-bytes 4096]
 *        [--fingers 2] [--dir DIR] [--keep]
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { CardType, emptyUser, type User } from '../../../daemon/model/user.js';
import { readDataFile, verifyDataFile } from './reader.js';
import { exportDataFile } from './writer.js';

interface Settings {
  users: number;
  photoBytes: number;
  fingers: number;
}

interface PhaseResult {
  phase: string;
  ms: number;
  peakRssMiB: number;
  detail: Record<string, unknown>;
}

async function* syntheticUsers(settings: Settings): AsyncGenerator<User> {
  for (let n = 1; n <= settings.users; n += 1) {
    const user = emptyUser(String(n));
    user.name = `User ${n}`;
    user.startTime = 1_700_000_000;
    user.endTime = 1_924_991_999;
    user.accessGroups = [1 + (n % 16)];
    user.cards = [{ type: CardType.CSN, data: randomBytes(8).toString('base64') }];
    user.fingers = Array.from({ length: settings.fingers }, (_, index) => ({
      index,
      flag: 0,
      templates: [randomBytes(384).toString('base64'), randomBytes(384).toString('base64')],
    }));
    user.pinHash = randomBytes(32).toString('base64');
    if (settings.photoBytes > 0) user.photo = randomBytes(settings.photoBytes).toString('base64');
    user.department = 'Operations';
    yield user;
  }
}

async function runPhase(phase: string, settings: Settings, dir: string, file: string | undefined): Promise<PhaseResult> {
  const started = performance.now();
  let detail: Record<string, unknown> = {};
  if (phase === 'write') {
    const path = await exportDataFile(syntheticUsers(settings), dir, { templateFormat: 'SUPREMA' });
    detail = { path, bytes: (await stat(path)).size };
  } else if (phase === 'verify') {
    const manifest = await verifyDataFile(createReadStream(file!), { siteTemplateFormat: 'SUPREMA' });
    const expandedBytes = manifest.members.reduce((sum, member) => sum + member.bytes, 0);
    detail = { users: manifest.userCount, members: manifest.members.length, expandedBytes };
  } else if (phase === 'read') {
    let users = 0;
    let invalid = 0;
    for await (const item of readDataFile(createReadStream(file!), { siteTemplateFormat: 'SUPREMA' })) {
      if (item.type === 'user') users += 1;
      if (item.type === 'invalid') invalid += 1;
    }
    detail = { users, invalid };
  } else {
    throw new Error(`unknown phase ${phase}`);
  }
  return {
    phase,
    ms: Math.round(performance.now() - started),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    detail,
  };
}

function child(phase: string, args: string[]): PhaseResult {
  const result = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--phase', phase, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`phase ${phase} failed (exit ${result.status})`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as PhaseResult;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '500000' },
      'photo-bytes': { type: 'string', default: '4096' },
      fingers: { type: 'string', default: '2' },
      dir: { type: 'string' },
      file: { type: 'string' },
      phase: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const settings: Settings = { users: Number(values.users), photoBytes: Number(values['photo-bytes']), fingers: Number(values.fingers) };
  const shared = ['--users', String(settings.users), '--photo-bytes', String(settings.photoBytes), '--fingers', String(settings.fingers)];

  if (values.phase) {
    const result = await runPhase(values.phase, settings, values.dir!, values.file);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }

  const dir = values.dir ?? (await mkdtemp(join(tmpdir(), 'rollcall-datafile-measure-')));
  let path: string | undefined;
  try {
    console.log(`${settings.users} users, ${settings.fingers} fingers (2 templates of 384 bytes each), ${settings.photoBytes}-byte photo, card, PIN hash`);
    const write = child('write', [...shared, '--dir', dir]);
    path = String(write.detail.path);
    const verify = child('verify', [...shared, '--file', path]);
    const read = child('read', [...shared, '--file', path]);
    const mib = (bytes: unknown): string => `${(Number(bytes) / 1024 / 1024).toFixed(0)} MiB`;
    console.log(
      `file: ${mib(write.detail.bytes)} compressed, ${mib(verify.detail.expandedBytes)} of records, ${String(verify.detail.members)} members`,
    );
    for (const result of [write, verify, read]) {
      const perSecond = Math.round(settings.users / (result.ms / 1000));
      console.log(`${result.phase.padEnd(6)} ${(result.ms / 1000).toFixed(1).padStart(7)} s  ${String(perSecond).padStart(7)} users/s  peak RSS ${result.peakRssMiB} MiB`);
    }
    if (read.detail.users !== settings.users) throw new Error(`read ${String(read.detail.users)} users, wrote ${settings.users}`);
    if (values.keep) console.log(`kept ${path}`);
  } finally {
    if (!values.keep) {
      if (values.dir) {
        if (path) await rm(path, { force: true });
      } else {
        await rm(dir, { recursive: true, force: true });
      }
    }
  }
}

await main();
