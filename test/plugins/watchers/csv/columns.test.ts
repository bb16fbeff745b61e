import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ignoredColumnNotes, isRecognisedHeader, mapColumns, normalizeHeader, resolveHeader, type ColumnConfig } from '../../../../plugins/watchers/csv/columns.js';
import { fixtureText } from './fixtures.js';

const none: ColumnConfig = { remap: {}, customFields: [] };

describe('normalizeHeader', () => {
  const table: [string, string][] = [
    ['User ID', 'user_id'],
    ['user_id', 'user_id'],
    [' USER_ID ', 'user_id'],
    ['user-id', 'user_id'],
    ['User  -  ID', 'user_id'],
    ['Expiry_DateTime', 'expiry_datetime'],
    ['', ''],
  ];
  for (const [input, expected] of table) {
    test(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => assert.equal(normalizeHeader(input), expected));
  }
});

describe('resolveHeader', () => {
  const table: { header: string; config?: Partial<ColumnConfig>; expected: string }[] = [
    { header: 'User ID', expected: 'field:user_id' },
    { header: 'CSN', expected: 'field:csn' },
    { header: 'Start DateTime', expected: 'field:start_datetime' },
    { header: 'security level', expected: 'field:security_level' },
    { header: 'Employee No', config: { remap: { 'Employee No': 'user_id' } }, expected: 'field:user_id' },
    { header: 'EMPLOYEE NO', config: { remap: { 'Employee No': 'user_id' } }, expected: 'field:user_id' },
    { header: 'Badge', config: { remap: { badge: 'csn' } }, expected: 'field:csn' },
    // remap wins over the automatic mapping
    { header: 'name', config: { remap: { name: 'ignore' } }, expected: 'ignored:unmapped by watchers.csv.remap' },
    { header: 'csn', config: { remap: { csn: 'user_id' } }, expected: 'field:user_id' },
    { header: 'Remarks', config: { customFields: ['Remarks'] }, expected: 'custom:Remarks' },
    { header: ' Remarks ', config: { customFields: ['Remarks'] }, expected: 'custom:Remarks' },
    { header: 'remarks', config: { customFields: ['Remarks'] }, expected: 'ignored:not a field' },
    { header: 'csn_mobile', expected: 'ignored:mobile cards' },
    { header: 'CSN Mobile', expected: 'ignored:mobile cards' },
    { header: 'mobile_start_datetime', expected: 'ignored:mobile card' },
    { header: 'qr', expected: 'ignored:QR' },
    { header: 'face_image_file1', expected: 'ignored:face images' },
    { header: 'face_image_file2', expected: 'ignored:face images' },
    { header: 'access_on_card', expected: 'ignored:smart cards' },
    { header: 'tom_aoc', expected: 'ignored:Template-on-Mobile' },
    { header: 'tom_scc', expected: 'ignored:Template-on-Mobile' },
    { header: '26 bit SIA Standard-H10301', expected: 'ignored:Wiegand' },
    { header: 'HID 37 bit-H10304', expected: 'ignored:Wiegand' },
    { header: 'HID Corporate 1000', expected: 'ignored:Wiegand' },
    { header: 'MIFARE CSN 32bit', expected: 'ignored:Wiegand' },
    { header: 'Error_Description', expected: 'ignored:error report' },
    { header: 'Shoe Size', expected: 'ignored:not a field rollcall reads' },
    { header: '  ', expected: 'ignored:the header cell is blank' },
  ];
  for (const row of table) {
    test(`${JSON.stringify(row.header)} → ${row.expected}`, () => {
      const target = resolveHeader(row.header, { ...none, ...row.config });
      const got =
        target.kind === 'field' ? `field:${target.key}` : target.kind === 'custom' ? `custom:${target.name}` : `ignored:${target.reason}`;
      const [kind, what] = row.expected.split(/:(.*)/s) as [string, string];
      if (kind === 'ignored') {
        assert.ok(got.startsWith('ignored:') && got.includes(what), `${got} should mention "${what}"`);
      } else {
        assert.equal(got, row.expected);
      }
    });
  }
});

describe('mapColumns', () => {
  test('maps a BioStar header with remaps and custom fields, reporting the rest as ignored', () => {
    const header = fixtureText('columns.csv').trim().split(',');
    const result = mapColumns(header, { remap: { 'Employee No': 'user_id', 'e-mail': 'email' }, customFields: ['Remarks'] });
    assert.ok(result.ok);
    assert.deepEqual(
      result.map.columns.map((c) => [c.index, c.target.kind === 'field' ? c.target.key : `custom:${c.target.name}`]),
      [
        [0, 'user_id'],
        [1, 'name'],
        [2, 'email'],
        [3, 'user_group'],
        [8, 'custom:Remarks'],
      ],
    );
    assert.deepEqual(
      result.map.ignored.map((c) => c.header),
      ['csn_mobile', 'face_image_file1', '26 bit SIA Standard-H10301', 'tom_aoc', 'Shoe Size'],
    );
  });

  const refusals: { name: string; header: string[]; config?: Partial<ColumnConfig>; says: RegExp }[] = [
    { name: 'two user_id columns', header: ['User ID', 'name', 'user_id'], says: /columns 1 \("User ID"\) and 3 \("user_id"\) both map to user_id/ },
    { name: 'a remap onto a mapped field', header: ['user_id', 'csn', 'Badge'], config: { remap: { Badge: 'csn' } }, says: /both map to csn/ },
    { name: 'the same custom field twice', header: ['user_id', 'Remarks', 'Remarks'], config: { customFields: ['Remarks'] }, says: /custom field "Remarks"/ },
    { name: 'no user_id column', header: ['name', 'csn'], says: /no user_id column \(the header is: "name", "csn"\)/ },
    { name: 'an empty header', header: [''], says: /names no column rollcall knows \(1 cell, not shown/ },
    // The first row of a file without a header: counted, never quoted (a cell may be a PIN).
    { name: 'a data row read as the header', header: ['9101', 'Jones', 'Ops', '83716204'], says: /^the header row names no column rollcall knows \(4 cells, not shown: they may be data\)[^0-9]*$/ },
    // One recognised cell is enough to quote the header: it is one.
    { name: 'a header with only a BioStar column rollcall does not import', header: ['photo', 'Employee No'], says: /no user_id column \(the header is: "photo", "Employee No"\)/ },
  ];
  for (const row of refusals) {
    test(`refuses ${row.name}`, () => {
      const result = mapColumns(row.header, { ...none, ...row.config });
      assert.equal(result.ok, false);
      assert.match(result.ok ? '' : result.reason, row.says);
    });
  }
});

describe('recognised headers', () => {
  const table: { header: string[]; config?: Partial<ColumnConfig>; recognised: boolean }[] = [
    { header: ['user_id'], recognised: true },
    { header: ['Remarks'], config: { customFields: ['Remarks'] }, recognised: true },
    { header: ['Employee No'], config: { remap: { 'Employee No': 'ignore' } }, recognised: true },
    { header: ['x', 'face_image_file1'], recognised: true },
    { header: ['9101', 'Jones', '83716204'], recognised: false },
    { header: ['', ' '], recognised: false },
    { header: [], recognised: false },
  ];
  for (const row of table) {
    test(`${JSON.stringify(row.header)} is ${row.recognised ? '' : 'not '}recognised`, () => {
      assert.equal(isRecognisedHeader(row.header, { ...none, ...row.config }), row.recognised);
    });
  }
});

describe('ignoredColumnNotes', () => {
  test('one note per reason, columns by number and header', () => {
    const result = mapColumns(['user_id', 'Shoe Size', '', 'qr', 'Hat'], none);
    assert.ok(result.ok);
    assert.deepEqual(ignoredColumnNotes(result.map.ignored), [
      'columns 2 "Shoe Size", 5 "Hat" not imported: not a field rollcall reads; list it in watchers.csv.customFields to keep it as a custom field, or remap it',
      'column 3 "" not imported: the header cell is blank',
      'column 4 "qr" not imported: QR credentials are not imported from CSV',
    ]);
  });

  test('past 20 columns of one reason the rest are counted', () => {
    const result = mapColumns(['user_id', ...Array.from({ length: 25 }, (_, i) => `extra ${i}`)], none);
    assert.ok(result.ok);
    const [note] = ignoredColumnNotes(result.map.ignored);
    assert.match(note!, /^columns 2 "extra 0", .*, 21 "extra 19" and 5 more not imported: /);
  });
});
