import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Status } from '../../../../proto/gen/google/rpc/status.js';
import { MultiErrorResponse, type ErrorResponse } from '../../../../proto/gen/gsdk/err.js';
import { deviceErrorsFromTrailer, multiResult, needsDeviceCheck, unknownDevicesUnavailable } from '../../../../plugins/transports/gsdk/multi-result.js';

function trailer(details: Array<[string, Uint8Array]>): Uint8Array {
  return Status.encode({
    code: 8,
    message: 'some devices failed',
    details: details.map(([typeUrl, value]) => ({ typeUrl, value: Buffer.from(value) })),
  }).finish();
}

const errors: ErrorResponse[] = [
  { deviceID: 1002, code: 8, msg: 'device is full' },
  { deviceID: 1003, code: 14, msg: 'device disconnected' },
];
const packed = MultiErrorResponse.encode({ deviceErrors: errors }).finish();

describe('deviceErrorsFromTrailer', () => {
  const table: Array<[string, Uint8Array, ErrorResponse[] | undefined]> = [
    ['the V1.5+ type name', trailer([['type.googleapis.com/gsdk.err.MultiErrorResponse', packed]]), errors],
    ['the V1.4 type name of the Node sample', trailer([['type.googleapis.com/err.MultiErrorResponse', packed]]), errors],
    ['both names, as the simulator sends them', trailer([
      ['type.googleapis.com/gsdk.err.MultiErrorResponse', packed],
      ['type.googleapis.com/err.MultiErrorResponse', packed],
    ]), errors],
    ['another detail first', trailer([
      ['type.googleapis.com/google.rpc.DebugInfo', Buffer.from([0x0a, 0x01, 0x41])],
      ['type.googleapis.com/gsdk.err.MultiErrorResponse', packed],
    ]), errors],
    ['only foreign details', trailer([['type.googleapis.com/google.rpc.DebugInfo', Buffer.from([0x0a, 0x01, 0x41])]]), undefined],
    ['a name that only looks alike', trailer([['type.googleapis.com/xerr.MultiErrorResponse', packed]]), undefined],
    ['no details', trailer([]), undefined],
    ['bytes that are not a Status', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), undefined],
  ];
  for (const [name, bytes, expected] of table) {
    test(name, () => {
      assert.deepEqual(deviceErrorsFromTrailer(bytes), expected);
    });
  }

  test('a broken first Any falls back to the second', () => {
    const bytes = trailer([
      ['type.googleapis.com/gsdk.err.MultiErrorResponse', Buffer.from([0x0a, 0xff])],
      ['type.googleapis.com/err.MultiErrorResponse', packed],
    ]);
    assert.deepEqual(deviceErrorsFromTrailer(bytes), errors);
  });
});

describe('multiResult', () => {
  test('splits requested devices into ok and failed', () => {
    const result = multiResult([1001, 1002, 1003], errors);
    assert.deepEqual(result.ok, [1001]);
    assert.deepEqual([...result.failed.entries()], [
      [1002, { reason: 'full', code: 8, codeName: 'RESOURCE_EXHAUSTED', message: 'device is full' }],
      [1003, { reason: 'unavailable', code: 14, codeName: 'UNAVAILABLE', message: 'device disconnected' }],
    ]);
  });

  test('no errors: every device ok, once each', () => {
    const result = multiResult([5, 6, 5], []);
    assert.deepEqual(result.ok, [5, 6]);
    assert.equal(result.failed.size, 0);
  });

  test('an entry with code OK is a success', () => {
    const result = multiResult([5, 6], [{ deviceID: 6, code: 0, msg: '' }]);
    assert.deepEqual(result.ok, [5, 6]);
    assert.equal(result.failed.size, 0);
  });

  test('the first error reported for a device wins', () => {
    const result = multiResult([5], [{ deviceID: 5, code: 5, msg: 'first' }, { deviceID: 5, code: 2, msg: 'second' }]);
    assert.equal(result.failed.get(5)?.message, 'first');
    assert.equal(result.failed.get(5)?.codeName, 'NOT_FOUND');
  });

  test('a failure for a device that was not requested is kept', () => {
    const result = multiResult([5], [{ deviceID: 9, code: 13, msg: 'odd' }]);
    assert.deepEqual(result.ok, [5]);
    assert.equal(result.failed.get(9)?.codeName, 'INTERNAL');
  });

  test('codes outside gRPC keep their number', () => {
    const result = multiResult([5], [{ deviceID: 5, code: 99, msg: '' }]);
    assert.equal(result.failed.get(5)?.codeName, 'CODE_99');
  });
});

describe('unknownDevicesUnavailable', () => {
  // 5 lacks a user, 6 is a device the gateway has no entry for, 7 is full.
  const result = multiResult([4, 5, 6, 7], [
    { deviceID: 5, code: 5, msg: 'user 9 not found' },
    { deviceID: 6, code: 5, msg: 'device 6 is not connected to the gateway' },
    { deviceID: 7, code: 8, msg: 'full' },
  ]);

  test('only a NOT_FOUND asks for the device list', () => {
    assert.equal(needsDeviceCheck(result), true);
    assert.equal(needsDeviceCheck(multiResult([7], [{ deviceID: 7, code: 8, msg: 'full' }])), false);
  });

  test('absent stays absent on a device the gateway knows; on one it does not, the device is unavailable', () => {
    const checked = unknownDevicesUnavailable(result, new Set([4, 5, 7]));
    assert.deepEqual(checked.ok, [4]);
    assert.deepEqual(
      [...checked.failed].map(([id, failure]) => [id, failure.reason, failure.codeName]),
      [[5, 'absent', 'NOT_FOUND'], [6, 'unavailable', 'NOT_FOUND'], [7, 'full', 'RESOURCE_EXHAUSTED']],
    );
  });

  test('without the device list no NOT_FOUND is taken for absent', () => {
    const checked = unknownDevicesUnavailable(result, undefined);
    assert.deepEqual([...checked.failed.values()].map((failure) => failure.reason), ['unavailable', 'unavailable', 'full']);
  });
});
