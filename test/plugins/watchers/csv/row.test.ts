import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CardType } from '../../../../daemon/model/user.js';
import { mapColumns, type ColumnMap } from '../../../../plugins/watchers/csv/columns.js';
import { csnToCardData } from '../../../../plugins/watchers/csv/csn.js';
import { periodCellReader, timeZone } from '../../../../plugins/watchers/csv/dates.js';
import { mapRow } from '../../../../plugins/watchers/csv/row.js';

const HEADER = [
  'user_id', 'name', 'department', 'user_title', 'phone', 'email', 'user_group',
  'start_datetime', 'expiry_datetime', 'csn', 'pin', 'disabled', 'security_level', 'Remarks',
];

function columns(header = HEADER): ColumnMap {
  const mapping = mapColumns(header, { remap: {}, customFields: ['Remarks'] });
  assert.ok(mapping.ok);
  return mapping.map;
}

const options = { periods: periodCellReader({ dayFirst: false, zone: timeZone('UTC') }) };

/** A full row with some cells replaced. */
function row(cells: Record<string, string>): string[] {
  const base: Record<string, string> = {
    user_id: '1001', name: 'Alice Kim', department: 'Security', user_title: 'Guard', phone: '+82 10 1234 5678',
    email: 'alice@example.org', user_group: 'All Users', start_datetime: '2025-01-01 00:00:00',
    expiry_datetime: '2030-12-31 23:59:59', csn: '123456789', pin: '4821', disabled: 'false', security_level: '3', Remarks: 'night',
  };
  return HEADER.map((h) => (h in cells ? cells[h]! : base[h]!));
}

describe('mapRow', () => {
  test('a full row becomes a patch', () => {
    const result = mapRow(row({}), columns(), options);
    assert.ok(result.ok, result.ok ? '' : result.reason);
    assert.deepEqual(result.patch, {
      id: '1001',
      values: {
        name: 'Alice Kim',
        department: 'Security',
        title: 'Guard',
        phone: '+82 10 1234 5678',
        email: 'alice@example.org',
        userGroup: 'All Users',
        startTime: 1735689600,
        endTime: 1924991999,
        cards: [{ type: CardType.CSN, data: csnToCardData(123456789n) }],
        disabled: false,
        securityLevel: 3,
        custom: { Remarks: 'night' },
      },
      blank: [],
      pin: '4821',
    });
  });

  test('blank cells set nothing and are listed as blank', () => {
    const result = mapRow(row({ name: '', csn: ' ', pin: '', Remarks: '', start_datetime: '' }), columns(), options);
    assert.ok(result.ok);
    assert.equal(result.patch.values.name, undefined);
    assert.equal(result.patch.values.cards, undefined);
    assert.equal(result.patch.pin, undefined);
    assert.deepEqual(result.patch.values.custom, { Remarks: '' });
    assert.deepEqual(new Set(result.patch.blank), new Set(['name', 'cards', 'pinHash', 'custom', 'startTime']));
  });

  test('cells are trimmed and defusing quotes undone', () => {
    const result = mapRow(row({ user_id: ' 1001 ', phone: "'+82 10", name: "'=Kim", department: "'Sales" }), columns(), options);
    assert.ok(result.ok);
    assert.equal(result.patch.id, '1001');
    assert.equal(result.patch.values.phone, '+82 10');
    assert.equal(result.patch.values.name, '=Kim');
    // Excel's text mark in front of ordinary text stays: it is not a defusing quote.
    assert.equal(result.patch.values.department, "'Sales");
  });

  const flags: [string, boolean][] = [['true', true], ['FALSE', false], ['1', true], ['0', false], ['yes', true], ['No', false]];
  for (const [text, value] of flags) {
    test(`disabled "${text}" → ${value}`, () => {
      const result = mapRow(row({ disabled: text }), columns(), options);
      assert.ok(result.ok);
      assert.equal(result.patch.values.disabled, value);
    });
  }

  const errors: [cells: Record<string, string>, says: RegExp][] = [
    [{ user_id: '' }, /^user_id: blank$/],
    [{ user_id: '0' }, /^user_id: the user ID must not be 0 or all zeros/],
    [{ user_id: '000' }, /^user_id: the user ID must not be 0 or all zeros/],
    [{ user_id: '1.23E+05' }, /^user_id: the user ID may contain only A-Z a-z 0-9 - _ \.$/],
    [{ user_id: 'x'.repeat(33) }, /^user_id: the user ID must be at most 32 bytes \(got 33\)$/],
    [{ name: 'A'.repeat(49) }, /^name: the name must be at most 48 characters \(got 49\)$/],
    [{ name: '가'.repeat(48) + '😀' }, /^name: the name must be at most 48 characters \(got 49\)$/],
    [{ name: 'Alice\nKim' }, /name: contains a line break/],
    [{ name: 'Alice\u0007' }, /name: contains a control character/],
    [{ department: 'D'.repeat(65) }, /department: 65 characters; at most 64/],
    [{ email: 'not-an-email' }, /email: "not-an-email" is not an email address/],
    [{ start_datetime: '03/04/2025' }, /^start_datetime: ambiguous date "03\/04\/2025" \(set watchers\.csv\.dayFirst to read DD\/MM\/YYYY\)$/],
    [{ expiry_datetime: '2025-02-30' }, /expiry_datetime: impossible date/],
    [{ start_datetime: '2026-01-01', expiry_datetime: '2025-01-01' }, /expiry_datetime: before start_datetime/],
    [{ csn: '0' }, /csn: a card number cannot be zero/],
    [{ csn: '0123' }, /csn: "0123" has a leading zero/],
    [{ csn: '1.23457E+11' }, /csn: "1.23457E\+11" is not a decimal card number/],
    [{ csn: '2-Feb' }, /csn: "2-Feb" is not a decimal card number/],
    [{ csn: (1n << 80n).toString() }, /csn: .* larger than 2\^80−1/],
    [{ pin: '12' }, /^pin: must be 4 to 16 digits \(the value is not shown\)$/],
    [{ pin: '12ab' }, /^pin: must be 4 to 16 digits/],
    [{ disabled: 'maybe' }, /disabled: "maybe" is not one of/],
    [{ security_level: '6' }, /security_level: "6" is not a level/],
    [{ Remarks: 'two\r\nlines' }, /Remarks: contains a line break/],
    [{ name: 'A'.repeat(50), csn: '0' }, /^name: the name must be at most 48 characters \(got 50\); csn: a card number cannot be zero$/],
  ];
  for (const [cells, says] of errors) {
    test(`rejects ${JSON.stringify(cells).slice(0, 70)}`, () => {
      const result = mapRow(row(cells), columns(), options);
      assert.equal(result.ok, false);
      assert.match(result.ok ? '' : result.reason, says);
    });
  }

  test('largest CSN and a 48-character name with punctuation are accepted', () => {
    const result = mapRow(row({ csn: ((1n << 80n) - 1n).toString(), name: "O'Brien-Smith, Dr. " + 'x'.repeat(29) }), columns(), options);
    assert.ok(result.ok, result.ok ? '' : result.reason);
    assert.equal(Buffer.from(result.patch.values.cards![0]!.data, 'base64').subarray(0, 22).every((b) => b === 0), true);
  });

  test('a rejected PIN never shows in the reason', () => {
    for (const pin of ['12', '1234567890123456789', '12a4', '9'.repeat(3)]) {
      const result = mapRow(row({ pin, name: '' }), columns(), options);
      assert.equal(result.ok, false);
      assert.ok(!(result.ok ? '' : result.reason).includes(pin));
    }
  });
});
