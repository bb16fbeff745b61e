/**
 * When an import holds the fan-out (import-hold.ts), on a clock the test moves.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ImportHold } from '../../../daemon/sync/import-hold.js';

function subject(maxMs = 10_000, idleMs = 2_000) {
  let now = 1_000_000;
  let released = 0;
  const hold = new ImportHold({ maxMs: () => maxMs, idleMs, now: () => now });
  hold.onRelease = () => released++;
  return {
    hold,
    advance: (ms: number) => (now += ms),
    get now() {
      return now;
    },
    get released() {
      return released;
    },
  };
}

describe('ImportHold', () => {
  test('holds nothing before an import commits', () => {
    const s = subject();
    assert.equal(s.hold.until(s.now), 0);
  });

  test('holds from the first commit until idleMs after the last one', () => {
    const s = subject();
    s.hold.committed();
    assert.equal(s.hold.until(s.now), s.now + 2_000);
    s.advance(1_500);
    s.hold.committed();
    assert.equal(s.hold.until(s.now), s.now + 2_000, 'each commit moves the end');
    s.advance(2_000);
    assert.equal(s.hold.until(s.now), 0, 'an import that stopped committing (waiting for the gateway) holds nothing');
  });

  test('never longer than maxMs after the import began', () => {
    const s = subject(5_000);
    s.hold.committed();
    const began = s.now;
    for (let i = 0; i < 4; i++) {
      s.advance(1_000);
      s.hold.committed();
    }
    assert.equal(s.hold.until(s.now), began + 5_000);
    s.advance(1_000);
    s.hold.committed();
    assert.equal(s.hold.until(s.now), 0, 'past maxMs the fan-out runs beside the import');
  });

  test('maxMs 0 (sync.importHoldMs: 0) holds nothing', () => {
    const s = subject(0);
    s.hold.committed();
    assert.equal(s.hold.until(s.now), 0);
  });

  test('ends with the import, tells its listener once, and begins anew with the next import', () => {
    const s = subject(5_000);
    s.hold.committed();
    s.hold.ended();
    assert.equal(s.hold.until(s.now), 0);
    assert.equal(s.released, 1);
    s.hold.ended();
    assert.equal(s.released, 1, 'an end with no import under way tells nothing');
    s.advance(60_000);
    s.hold.committed();
    assert.equal(s.hold.until(s.now), s.now + 2_000, 'the next import holds from its own first commit');
  });
});
