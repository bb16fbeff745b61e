import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import fc from 'fast-check';
import { applyImportPatch } from '../../../../daemon/merge/import-merge.js';
import { CardType, emptyUser, type User } from '../../../../daemon/model/user.js';
import { mapColumns } from '../../../../plugins/watchers/csv/columns.js';
import { csnToCardData, CSN_MAX } from '../../../../plugins/watchers/csv/csn.js';
import { periodCellReader, timeZone, type Zone } from '../../../../plugins/watchers/csv/dates.js';
import { decodeText } from '../../../../plugins/watchers/csv/decode.js';
import { exportCells, exportCsv, exportHeader, type ExportOptions } from '../../../../plugins/watchers/csv/export.js';
import { readCsv } from '../../../../plugins/watchers/csv/reader.js';
import { mapRow } from '../../../../plugins/watchers/csv/row.js';
import { propertyRuns } from './fixtures.js';

const utc = timeZone('UTC');

async function exportToBuffer(users: User[], options: ExportOptions): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  await exportCsv(Readable.from(users), out, options);
  return Buffer.concat(chunks);
}

function sampleUser(): User {
  return {
    ...emptyUser('1001'),
    name: 'Alice Kim',
    department: 'Security',
    title: 'Guard',
    phone: '+82 10 1234 5678',
    email: 'alice@example.org',
    userGroup: 'All Users',
    startTime: 1735689600,
    endTime: 0,
    cards: [
      { type: CardType.SECURE, data: Buffer.from('secret').toString('base64') },
      { type: CardType.CSN, data: csnToCardData(123456789n) },
      { type: CardType.CSN, data: csnToCardData(42n) },
    ],
    pinHash: Buffer.alloc(32, 7).toString('base64'),
    custom: { Remarks: 'night\r\nshift', Zone: 'B' },
  };
}

describe('exportCells', () => {
  test('BioStar order, both dates, the first CSN, custom fields sorted, formulas defused, newlines flattened', () => {
    const options = { zone: timeZone('Asia/Seoul'), customFields: ['Zone', 'Remarks'] };
    assert.deepEqual(exportHeader(options), [
      'user_id', 'name', 'department', 'user_title', 'phone', 'email', 'user_group', 'start_datetime', 'expiry_datetime', 'csn', 'Remarks', 'Zone',
    ]);
    assert.deepEqual(exportCells(sampleUser(), options), [
      '1001', 'Alice Kim', 'Security', 'Guard', "'+82 10 1234 5678", 'alice@example.org', 'All Users',
      '2025-01-01 09:00:00', '2037-12-31 23:59:59', '123456789', 'night shift', 'B',
    ]);
  });

  test('chosen columns, disabled and security level included', () => {
    const user = { ...sampleUser(), disabled: true, securityLevel: 4, startTime: 0 };
    assert.deepEqual(exportCells(user, { zone: utc, columns: ['user_id', 'disabled', 'security_level', 'start_datetime'] }), ['1001', 'true', '4', '2001-01-01 00:00:00']);
  });

  test('a CSN no csn cell can hold is skipped for the next one', () => {
    const user = { ...emptyUser('7'), cards: [{ type: CardType.CSN, data: Buffer.alloc(32).toString('base64') }, { type: CardType.CSN, data: csnToCardData(9n) }] };
    assert.equal(exportCells(user, { zone: utc })[9], '9');
    assert.equal(exportCells({ ...user, cards: [] }, { zone: utc })[9], '');
  });
});

describe('exportCsv', () => {
  test('UTF-8 with BOM, CRLF, defused cells quoted, no PIN and no PIN hash', async () => {
    const user = sampleUser();
    const bytes = await exportToBuffer([user, { ...emptyUser('1002'), name: '=HYPERLINK("x")' }], { zone: utc, customFields: ['Remarks'] });
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    const text = bytes.subarray(3).toString('utf8');
    const lines = text.split('\r\n');
    assert.equal(lines.length, 4);
    assert.equal(lines[3], '');
    assert.equal(lines[0], 'user_id,name,department,user_title,phone,email,user_group,start_datetime,expiry_datetime,csn,Remarks');
    assert.equal(lines[1], `1001,Alice Kim,Security,Guard,"'+82 10 1234 5678",alice@example.org,All Users,2025-01-01 00:00:00,2037-12-31 23:59:59,123456789,night shift`);
    assert.equal(lines[2], `1002,"'=HYPERLINK(""x"")",,,,,,2001-01-01 00:00:00,2037-12-31 23:59:59,,`);
    assert.doesNotMatch(text, /\n(?<!\r\n)/);
    assert.ok(!text.includes(user.pinHash!));
    assert.ok(!/\bpin\b/i.test(lines[0]!));
  });

  test('an aborted export rejects and destroys the output', async () => {
    const controller = new AbortController();
    async function* users(): AsyncGenerator<User> {
      yield sampleUser();
      controller.abort();
      yield sampleUser();
    }
    const out = new PassThrough();
    out.resume();
    await assert.rejects(exportCsv(users(), out, { zone: utc, signal: controller.signal }), { name: 'AbortError' });
    assert.equal(out.destroyed, true);
  });

  test('property: export then import gives back the same users', async () => {
    const customFields = ['Remarks', 'Shift'];
    const text = (max: number) =>
      fc
        .string({ unit: fc.constantFrom('a', 'Z', '9', ' ', ',', '"', "'", '=', '+', '-', '@', '김', 'é', '.', ';'), maxLength: max })
        .map((s) => s.trim());
    const seconds = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 0xffffffff }));
    const user = fc
      .record({
        id: fc.stringMatching(/^[A-Za-z0-9_.-]{1,32}$/).filter((id) => !/^0+$/.test(id)),
        name: text(48),
        department: text(64),
        title: text(20),
        phone: text(20),
        email: fc.option(fc.constantFrom('a@b.c', 'x.y@example.org'), { nil: undefined }),
        userGroup: text(20),
        start: seconds,
        end: seconds,
        csn: fc.option(fc.bigInt({ min: 1n, max: CSN_MAX }), { nil: undefined }),
        remarks: text(32),
        shift: text(10),
      })
      .map((r): User => {
        const [startTime, endTime] = r.start && r.end && r.end < r.start ? [r.end, r.start] : [r.start, r.end];
        const custom: Record<string, string> = {};
        if (r.remarks) custom['Remarks'] = r.remarks;
        if (r.shift) custom['Shift'] = r.shift;
        const u: User = { ...emptyUser(r.id), name: r.name, startTime, endTime };
        if (r.department) u.department = r.department;
        if (r.title) u.title = r.title;
        if (r.phone) u.phone = r.phone;
        if (r.email) u.email = r.email;
        if (r.userGroup) u.userGroup = r.userGroup;
        if (r.csn !== undefined) u.cards = [{ type: CardType.CSN, data: csnToCardData(r.csn) }];
        if (Object.keys(custom).length > 0) u.custom = custom;
        return u;
      });
    // A fixed-offset zone and UTC: in zones with DST, the repeated hour cannot round-trip.
    const zones: Zone[] = [utc, timeZone('Asia/Seoul')];
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(user, { selector: (u) => u.id, maxLength: 8 }), fc.constantFrom(...zones), async (users, zone) => {
        const bytes = await exportToBuffer(users, { zone, customFields });
        const back = await importUsers(bytes, zone, customFields);
        assert.deepEqual(back, users.map((u) => normalize(u, zone)));
      }),
      { numRuns: propertyRuns(100) },
    );
  });
});

/** What an export can carry: BioStar's default period is "no limit" on the way back. */
function normalize(user: User, zone: Zone): User {
  const copy = structuredClone(user);
  const wall = (s: number) => {
    const t = zone.toLocal(s);
    return `${t.year}-${t.month}-${t.day} ${t.hour}:${t.minute}:${t.second}`;
  };
  if (copy.startTime !== 0 && wall(copy.startTime) === '2001-1-1 0:0:0') copy.startTime = 0;
  if (copy.endTime !== 0 && wall(copy.endTime).startsWith('2037-12-31 23:59:')) copy.endTime = 0;
  return copy;
}

async function importUsers(bytes: Buffer, zone: Zone, customFields: string[]): Promise<User[]> {
  const users: User[] = [];
  const periods = periodCellReader({ dayFirst: false, zone });
  let map;
  for await (const event of readCsv(decodeText(Readable.from([bytes])), { delimiter: ',', startRow: 2 })) {
    if (event.kind === 'header') {
      const mapping = mapColumns(event.cells, { remap: {}, customFields });
      assert.ok(mapping.ok);
      map = mapping.map;
      continue;
    }
    assert.equal(event.kind, 'row', event.kind === 'error' ? event.reason : '');
    if (event.kind !== 'row') continue;
    const mapped = mapRow(event.cells, map!, { periods });
    assert.ok(mapped.ok, mapped.ok ? '' : mapped.reason);
    const merged = applyImportPatch(undefined, mapped.patch, { mode: 'overwrite', blankClears: false });
    assert.ok('user' in merged);
    users.push(merged.user);
  }
  return users;
}
