import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pinIndexes, redactCells, redactionOf, redactRow } from '../../../../plugins/watchers/csv/redact.js';

describe('redactRow', () => {
  test('blanks pin cells, by header and through a remap', () => {
    assert.deepEqual(redactRow(['1', 'Kim', '4821'], ['user_id', 'name', 'PIN']), ['1', 'Kim', '']);
    assert.deepEqual(redactRow(['1', '4821'], ['user_id', 'Code'], { Code: 'pin' }), ['1', '']);
    // A pin column remapped away still holds PINs.
    assert.deepEqual(redactRow(['1', '4821'], ['user_id', 'pin'], { pin: 'ignore' }), ['1', '']);
    assert.deepEqual([...pinIndexes(['pin', 'user_id', ' P I N '])], [0]);
  });

  test('a file without a PIN column keeps every row as it was, misaligned or not', () => {
    assert.deepEqual(redactRow(['1', 'Smith', ' John', 'Ops'], ['user_id', 'name', 'department']), ['1', 'Smith', ' John', 'Ops']);
    assert.deepEqual(redactRow(['1'], ['user_id', 'name']), ['1']);
  });
});

describe('misaligned rows in a file with a PIN column', () => {
  const header = ['user_id', 'name', 'department', 'pin'];
  const table: { name: string; header?: string[]; cells: string[]; expected: string[] }[] = [
    {
      name: 'a cell too many (an unquoted comma in a name): only the ID, which comes before the PIN, stays',
      cells: ['9002', 'Smith', ' John', 'Ops', '918274'],
      expected: ['9002', '', '', '', ''],
    },
    {
      name: 'cells left out move the PIN left, perhaps into the ID column: all blank',
      cells: ['9003', '918275'],
      expected: ['', ''],
    },
    {
      name: 'a one-cell row that may be the PIN alone: blank',
      cells: ['918276'],
      expected: [''],
    },
    {
      name: 'cells left out, the ID column after the PIN: the cell in the ID column (not a PIN) stays, here there is none',
      header: ['pin', 'name', 'user_id'],
      cells: ['918277', '9005'],
      expected: ['', ''],
    },
    {
      name: 'a cell too many, the ID column after the PIN: the PIN may have moved into it, all blank',
      header: ['name', 'pin', 'user_id'],
      cells: ['Smith', ' John', '918278', '9007'],
      expected: ['', '', '', ''],
    },
    {
      name: 'no user_id column: all blank',
      header: ['name', 'pin'],
      cells: ['Smith', ' John', '918279'],
      expected: ['', '', ''],
    },
  ];
  for (const row of table) {
    test(row.name, () => assert.deepEqual(redactRow(row.cells, row.header ?? header), row.expected));
  }

  test('a shorter row keeps the cell in the ID column when the ID column comes after every PIN column', () => {
    // pin, name, department, user_id with the name left out: the ID moved left, to column 3.
    const redaction = redactionOf(['pin', 'name', 'department', 'user_id', 'email'], { remap: {}, customFields: [] });
    assert.equal(redaction.id, 3);
    assert.deepEqual(redactCells(['918280', 'Ops', 'x', '9008'], redaction), ['', '', '', '9008']);
  });

  test('the user_id column is found through remap', () => {
    const redaction = redactionOf(['Employee No', 'name', 'pin'], { remap: { 'Employee No': 'user_id' }, customFields: [] });
    assert.deepEqual(redactCells(['77', 'Smith', ' John', '918281'], redaction), ['77', '', '', '']);
  });
});
