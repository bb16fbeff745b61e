import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LISTEN, formatListenAddress, parseListenAddress } from '../../../daemon/obs/listen.js';
import { isRollcallError } from '../../../daemon/errors.js';

describe('parseListenAddress', () => {
  const good: [string, { host: string; port: number }][] = [
    [DEFAULT_LISTEN, { host: '127.0.0.1', port: 9464 }],
    ['[::1]:9464', { host: '::1', port: 9464 }],
    ['[::]:0', { host: '::', port: 0 }],
    ['0.0.0.0:65535', { host: '0.0.0.0', port: 65535 }],
    ['localhost:8080', { host: 'localhost', port: 8080 }],
    ['[fe80::1%eth0]:9464', { host: 'fe80::1%eth0', port: 9464 }],
  ];
  for (const [input, expected] of good) {
    test(`reads ${input}`, () => {
      assert.deepEqual(parseListenAddress(input), expected);
      assert.equal(formatListenAddress(expected), input === DEFAULT_LISTEN ? '127.0.0.1:9464' : input);
    });
  }

  const bad: [string, RegExp][] = [
    ['9464', /host:port/],
    [':9464', /host is missing/],
    ['127.0.0.1:', /not a port/],
    ['127.0.0.1:65536', /above 65535/],
    ['127.0.0.1:-1', /not a port/],
    ['127.0.0.1:12a', /not a port/],
    ['127.0.0.1:123456', /not a port/],
    ['::1:9464', /needs brackets/],
    ['[::1]9464', /\[ipv6\]:port/],
    ['[::1:9464', /\[ipv6\]:port/],
    ['[zz]:9464', /not an IPv6 address/],
    ['[127.0.0.1]:9464', /not an IPv6 address/],
    ['my host:9464', /white space/],
  ];
  for (const [input, reason] of bad) {
    test(`refuses ${JSON.stringify(input)}`, () => {
      assert.throws(
        () => parseListenAddress(input),
        (error: unknown) =>
          isRollcallError(error, 'ROLLCALL_ERR_CONFIG_INVALID') && reason.test(error.message) && error.message.includes(input),
      );
    });
  }
});
