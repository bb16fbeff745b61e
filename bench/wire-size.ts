/**
 * Benchmark 6, wire size: the bytes one user costs where docs/scale.md counts them. For a
 * card-and-PIN user (the benchmarks' site user) and a BioStar user with a CSN card, a PIN and
 * one or two fingerprints (two 384-byte SUPREMA templates per finger, the size devices
 * store): its UserInfo as the gsdk transport encodes it (toUserInfo, ts-proto), its share
 * of an EnrollMulti of 500 users (the engine's default batch), and its record in the store
 * (the JSON text a commit writes, what the users table and LevelDB hold).
 *
 * Baseline in the same run: the user's payload bytes alone (ID, name, card data, PIN hash,
 * template bytes, access groups as 4-byte numbers), with no framing; the ratio is the
 * encoding's overhead. Nothing is timed.
 *
 *   node dist/bench/wire-size.js [--batch 500]
 */
import { randomBytes } from 'node:crypto';
import type { User } from '../daemon/model/user.js';
import { toUserInfo } from '../plugins/transports/gsdk/user-info.js';
import { EnrollMultiRequest, UserInfo } from '../proto/gen/gsdk/user.js';
import { runIfMain, type BenchContext, type BenchDefinition, type BenchOutcome } from './lib/run.js';
import type { ResultRow } from './lib/results.js';
import { siteUser } from './lib/site-users.js';
import { costRatio, round } from './lib/stats.js';

/** A SUPREMA fingerprint template as devices store it. */
export const TEMPLATE_BYTES = 384;

/** Site user `n` with `fingers` enrolled fingers, two templates each (fixed random bytes per run). */
export function fingerprintUser(n: number, fingers: number): User {
  const user = siteUser(n, 1);
  return {
    ...user,
    fingers: Array.from({ length: fingers }, (_, index) => ({ index, flag: 0, templates: [randomBytes(TEMPLATE_BYTES).toString('base64'), randomBytes(TEMPLATE_BYTES).toString('base64')] })),
  };
}

/** The user's payload bytes with no framing or field tags. */
export function payloadBytes(user: User): number {
  const b64 = (text: string | undefined): number => (text ? Buffer.from(text, 'base64').length : 0);
  return (
    Buffer.byteLength(user.id) +
    Buffer.byteLength(user.name) +
    user.cards.reduce((sum, c) => sum + b64(c.data), 0) +
    user.fingers.reduce((sum, f) => sum + f.templates.reduce((s, t) => s + b64(t), 0), 0) +
    user.faces.reduce((sum, f) => sum + f.templates.reduce((s, t) => s + b64(t), 0), 0) +
    b64(user.pinHash) +
    4 * user.accessGroups.length
  );
}

interface Shape {
  name: string;
  users: User[];
}

export const wireSize: BenchDefinition = {
  name: 'wire-size',
  title: 'Wire size of a user',
  options: { batch: { type: 'string' } },
  async run(ctx: BenchContext): Promise<BenchOutcome> {
    const batch = Number(ctx.values['batch'] ?? 500);
    const shapes: Shape[] = [
      { name: 'card-and-PIN user (one CSN card, a PIN, one access group)', users: Array.from({ length: batch }, (_, i) => siteUser(i, 1)) },
      { name: 'BioStar user with a CSN card, a PIN and 1 fingerprint (2 × 384-byte templates)', users: Array.from({ length: batch }, (_, i) => fingerprintUser(i, 1)) },
      { name: 'BioStar user with a CSN card, a PIN and 2 fingerprints (4 × 384-byte templates)', users: Array.from({ length: batch }, (_, i) => fingerprintUser(i, 2)) },
    ];
    const rows: ResultRow[] = [];
    const details: Record<string, unknown>[] = [];
    for (const shape of shapes) {
      const infos = shape.users.map((u) => toUserInfo(u));
      const perUser = infos.reduce((sum, info) => sum + UserInfo.encode(info).finish().length, 0) / infos.length;
      const request = (devices: number): number => EnrollMultiRequest.encode(EnrollMultiRequest.fromPartial({ deviceIDs: Array.from({ length: devices }, (_, i) => 1001 + i), users: infos, overwrite: true })).finish().length;
      const batchBytes = request(1);
      const batch100Bytes = request(100);
      const record = shape.users.reduce((sum, u) => sum + Buffer.byteLength(JSON.stringify(u)), 0) / shape.users.length;
      const payload = shape.users.reduce((sum, u) => sum + payloadBytes(u), 0) / shape.users.length;
      rows.push({
        figure: `${shape.name}: UserInfo as the transport encodes it`,
        measured: { value: round(perUser), unit: 'B' },
        baseline: { value: round(payload), unit: 'B', label: 'its payload bytes, no framing' },
        ratio: costRatio(perUser, payload),
      });
      rows.push({
        figure: `${shape.name}: share of an EnrollMulti of ${batch} users to 1 device`,
        measured: { value: round(batchBytes / batch), unit: 'B' },
        baseline: { value: round(payload), unit: 'B', label: 'its payload bytes' },
        ratio: costRatio(batchBytes / batch, payload),
      });
      rows.push({
        figure: `${shape.name}: stored record (JSON text)`,
        measured: { value: round(record), unit: 'B' },
        baseline: { value: round(payload), unit: 'B', label: 'its payload bytes' },
        ratio: costRatio(record, payload),
      });
      details.push({ shape: shape.name, userInfoBytes: perUser, enrollMultiBytes: { devices1: batchBytes, devices100: batch100Bytes }, recordBytes: record, payloadBytes: payload });
      ctx.log(`${shape.name}: UserInfo ${round(perUser)} B, EnrollMulti of ${batch} to 1 device ${batchBytes} B (to 100 devices ${batch100Bytes} B), record ${round(record)} B, payload ${round(payload)} B`);
    }
    return {
      rows,
      notes: [
        `Encoded with the gsdk transport's toUserInfo and the generated UserInfo / EnrollMultiRequest encoders (ts-proto), as the transport sends them to the gateway; the simulator decodes the same messages. Averages over ${batch} users (IDs from 100000, 6 digits).`,
        'One EnrollMulti carries the users once for all the device IDs it names (the gateway fans out to each device); the device list adds a few bytes per device: see details.',
        'Stored record: the JSON text of the User a commit writes (commit-plan.ts) — the users table row of the postgres store and the LevelDB value — without the feed entry and indexes.',
      ],
      details,
    };
  },
};

runIfMain(import.meta.url, wireSize);
