import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelUnits, ownPeakRssBytes, parseProcStat, parseVmHwm, readProcStat, usageBetween } from '../../../bench/lib/process-stats.js';

const fields = (comm: string): string =>
  `4242 (${comm}) S 1 4242 4242 0 -1 4194560 1200 0 0 0 731 214 0 0 20 0 11 0 5000 1234567890 25600 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0`;

test('/proc/<pid>/stat is read from after the command name, whatever it holds', () => {
  for (const comm of ['node', 'node worker', 'a) b (c', ')']) {
    assert.deepEqual(parseProcStat(fields(comm)), { utime: 731, stime: 214, rssPages: 25600 }, comm);
  }
  assert.throws(() => parseProcStat('garbage'));
});

test('VmHWM is read in bytes', () => {
  assert.equal(parseVmHwm('Name:\tnode\nVmPeak:\t 999 kB\nVmHWM:\t  204800 kB\nVmRSS:\t 1 kB\n'), 204800 * 1024);
  assert.throws(() => parseVmHwm('Name:\tnode\n'));
});

test('a usage window is CPU ticks over wall time, with every RSS sample', () => {
  const units = { ticksPerSecond: 100, pageBytes: 4096 };
  const window = usageBetween(
    [
      { at: 1000, stat: { utime: 100, stime: 50, rssPages: 10 } },
      { at: 6000, stat: { utime: 104, stime: 51, rssPages: 12 } },
      { at: 11_000, stat: { utime: 108, stime: 52, rssPages: 11 } },
    ],
    units,
  );
  assert.equal(window.seconds, 10);
  assert.equal(window.cpuSeconds, 0.1);
  assert.equal(window.coreShare, 0.01);
  assert.deepEqual(window.rssSamples, [40960, 49152, 45056]);
  assert.throws(() => usageBetween([{ at: 0, stat: { utime: 0, stime: 0, rssPages: 0 } }], units), RangeError);
});

test('this process can be read as any other', () => {
  const stat = readProcStat(process.pid);
  const units = kernelUnits();
  assert.ok(stat.rssPages * units.pageBytes > 1024 * 1024, 'a Node process holds more than 1 MiB');
  assert.ok(ownPeakRssBytes() >= stat.rssPages * units.pageBytes * 0.5);
});
