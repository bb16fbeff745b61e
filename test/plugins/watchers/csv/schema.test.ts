import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { configSchema } from '../../../../plugins/watchers/csv/schema.js';

describe('csv watcher config', () => {
  test('defaults', () => {
    assert.deepEqual(configSchema.parse({}), {
      startRow: 2,
      delimiter: ',',
      mode: 'preserve',
      blankClears: false,
      dayFirst: false,
      timeZone: 'UTC',
      remap: {},
      customFields: [],
      batchSize: 500,
      export: {},
    });
  });

  test('a full config', () => {
    const config = configSchema.parse({
      startRow: 3,
      delimiter: ';',
      mode: 'overwrite',
      blankClears: true,
      dayFirst: true,
      timeZone: 'Europe/Amsterdam',
      remap: { 'Employee No': 'user_id', Badge: 'csn', csn_mobile: 'ignore' },
      customFields: ['Remarks'],
      batchSize: 100,
      export: { schedule: '0 2 * * *', columns: ['user_id', 'name', 'disabled'] },
    });
    assert.equal(config.export.schedule, '0 2 * * *');
    assert.equal(configSchema.parse({ export: { schedule: '6h' } }).export.schedule, '6h');
  });

  const invalid: [string, Record<string, unknown>, RegExp][] = [
    ['an unknown key', { stratRow: 2 }, /stratRow/],
    ['startRow 1 (no header)', { startRow: 1 }, /startRow/],
    ['an unknown time zone', { timeZone: 'Mars/Olympus' }, /IANA/],
    ['a remap onto a field that does not exist', { remap: { Badge: 'badge' } }, /remap/],
    ['pin among export columns', { export: { columns: ['user_id', 'pin'] } }, /columns/],
    ['a schedule that is neither interval nor cron', { export: { schedule: 'nightly' } }, /interval/],
    ['a quote as delimiter', { delimiter: '"' }, /delimiter/],
    ['a batch size of 0', { batchSize: 0 }, /batchSize/],
  ];
  for (const [name, input, says] of invalid) {
    test(`refuses ${name}`, () => {
      const result = configSchema.safeParse(input);
      assert.equal(result.success, false);
      assert.match(JSON.stringify(result.error?.issues), says);
    });
  }
});
