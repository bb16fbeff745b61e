import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SoftDeadline } from '../../../daemon/sync/soft-deadline.js';

const options = { floorMs: 20, factor: 3, window: 16, minSamples: 4, ceilingMs: (units: number) => 50 + 0.05 * units };

describe('soft deadline of shared calls', () => {
  test('before a size class has enough samples, no deadline (what is normal is not known yet)', () => {
    const d = new SoftDeadline(options);
    assert.equal(d.budgetMs(100), undefined);
    for (let i = 0; i < 3; i++) d.record(100, 2);
    assert.equal(d.budgetMs(100), undefined, 'three samples are not enough');
    d.record(100, 2);
    assert.equal(d.budgetMs(100), 20, 'four are: three times their p90 (6 ms), raised to the floor');
  });

  test('factor × p90 of the class, between the floor and the allowance', () => {
    const d = new SoftDeadline(options);
    // Ten calls of 10 ms and one of 40: the p90 of the eleven is 10.
    for (let i = 0; i < 10; i++) d.record(1000, 10);
    d.record(1000, 40);
    assert.equal(d.budgetMs(1000), 30);
    for (let i = 0; i < 16; i++) d.record(1000, 80);
    assert.equal(d.budgetMs(1000), 100, 'three times 80 is over the ceiling of 100 ms for 1,000 units');
  });

  test('size classes (powers of two of users × devices) are apart', () => {
    const d = new SoftDeadline(options);
    for (let i = 0; i < 8; i++) d.record(70, 10);
    assert.equal(d.budgetMs(64), 30);
    assert.equal(d.budgetMs(127), 30);
    assert.equal(d.budgetMs(128), undefined, 'the next class has no samples yet');
    assert.equal(d.budgetMs(63), undefined);
  });

  test('calls cut at the deadline count as lasting it, so a class that grew slower is followed, not cut forever', () => {
    const d = new SoftDeadline(options);
    for (let i = 0; i < 16; i++) d.record(500, 5);
    const first = d.budgetMs(500);
    assert.equal(first, 20);
    // The machine got slower: every call outlasts the deadline and is cut at it.
    let budget: number | undefined = first;
    for (let i = 0; i < 16; i++) {
      d.record(500, budget!);
      budget = d.budgetMs(500);
    }
    assert.ok(budget! > first! * 2, `the deadline rose from ${first} to ${budget} ms`);
    assert.ok(budget! <= 75, 'never over the ceiling');
  });

  test('only the last `window` calls count', () => {
    const d = new SoftDeadline(options);
    for (let i = 0; i < 16; i++) d.record(10, 30);
    assert.equal(d.budgetMs(10), 50.5);
    for (let i = 0; i < 16; i++) d.record(10, 1);
    assert.equal(d.budgetMs(10), 20);
  });
});
