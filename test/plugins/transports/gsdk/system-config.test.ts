import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { GetConfigResponse, SetConfigRequest, SystemConfig } from '../../../../proto/gen/gsdk/system.js';
import {
  configBytesOf,
  readUseAlphanumericID,
  setConfigRequest,
  withUseAlphanumericID,
} from '../../../../plugins/transports/gsdk/system-config.js';

/** A SystemConfig as a real device sends it: fields rollcall's proto does not define around field 7. */
function deviceConfig(useAlphanumericID: boolean | undefined): Uint8Array {
  const writer = new BinaryWriter();
  writer.tag(1, WireType.Varint).int32(540); // time zone offset
  writer.tag(2, WireType.Varint).bool(true); // sync time
  if (useAlphanumericID !== undefined) writer.tag(7, WireType.Varint).bool(useAlphanumericID);
  writer.tag(9, WireType.LengthDelimited).string('en');
  writer.tag(12, WireType.Bit32).fixed32(0xdeadbeef);
  return writer.finish();
}

/** Every field other than 7, as (number, raw bytes) pairs in order. */
function otherFields(config: Uint8Array): Array<[number, string]> {
  const reader = new BinaryReader(config);
  const out: Array<[number, string]> = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const [fieldNo, wireType] = reader.tag();
    reader.skip(wireType, fieldNo);
    if (fieldNo !== 7) out.push([fieldNo, Buffer.from(config.subarray(start, reader.pos)).toString('hex')]);
  }
  return out;
}

describe('alphanumeric IDs in a raw SystemConfig', () => {
  const table: Array<[boolean | undefined, boolean]> = [
    [undefined, true],
    [undefined, false],
    [false, true],
    [true, false],
    [true, true],
  ];
  for (const [before, after] of table) {
    test(`${String(before)} → ${after} keeps every other field`, () => {
      const original = deviceConfig(before);
      const changed = withUseAlphanumericID(original, after);
      assert.equal(readUseAlphanumericID(original), before ?? false);
      assert.equal(readUseAlphanumericID(changed), after);
      assert.equal(SystemConfig.decode(changed).useAlphanumericID, after);
      assert.deepEqual(otherFields(changed), otherFields(original));
    });
  }

  test('the config is found inside a GetConfigResponse', () => {
    const config = deviceConfig(true);
    const writer = new BinaryWriter();
    writer.tag(1, WireType.LengthDelimited).bytes(config);
    writer.tag(5, WireType.Varint).uint32(3); // a field a newer gateway might add
    assert.deepEqual(Buffer.from(configBytesOf(writer.finish())), Buffer.from(config));
    assert.equal(readUseAlphanumericID(configBytesOf(GetConfigResponse.encode({ config: { useAlphanumericID: true } }).finish())), true);
    assert.equal(configBytesOf(new Uint8Array(0)).length, 0);
  });

  test('a SetConfigRequest carries the device and the raw config', () => {
    const config = withUseAlphanumericID(deviceConfig(false), true);
    const request = setConfigRequest(1002, config);
    const decoded = SetConfigRequest.decode(request);
    assert.equal(decoded.deviceID, 1002);
    assert.equal(decoded.config?.useAlphanumericID, true);
    const reader = new BinaryReader(request);
    reader.tag();
    reader.uint32();
    reader.tag();
    assert.deepEqual(Buffer.from(reader.bytes()), Buffer.from(config));
  });
});
