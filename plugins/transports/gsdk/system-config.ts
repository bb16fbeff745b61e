/**
 * Switching a device's alphanumeric user IDs without touching the rest of its system
 * config. SetConfig replaces the whole gsdk.system.SystemConfig, and rollcall's proto
 * defines only useAlphanumericID (field 7): a decode-modify-encode round trip would send
 * the other fields of a real device (time zone, language, ...) back as defaults. So the
 * config read from the device is kept as bytes and only field 7 is rewritten.
 */
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

const USE_ALPHANUMERIC_ID = 7;
/** GetConfigResponse.config and SetConfigRequest.config. */
const RESPONSE_CONFIG = 1;
const REQUEST_DEVICE_ID = 1;
const REQUEST_CONFIG = 2;

/** The raw SystemConfig inside a GetConfigResponse (empty when absent). */
export function configBytesOf(getConfigResponse: Uint8Array): Uint8Array {
  const reader = new BinaryReader(getConfigResponse);
  let config: Uint8Array = new Uint8Array(0);
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    if (fieldNo === RESPONSE_CONFIG && wireType === WireType.LengthDelimited) config = reader.bytes();
    else reader.skip(wireType, fieldNo);
  }
  return config;
}

/** useAlphanumericID as the raw SystemConfig says it (the last occurrence wins, as in any decoder). */
export function readUseAlphanumericID(config: Uint8Array): boolean {
  const reader = new BinaryReader(config);
  let value = false;
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    if (fieldNo === USE_ALPHANUMERIC_ID && wireType === WireType.Varint) value = reader.bool();
    else reader.skip(wireType, fieldNo);
  }
  return value;
}

/** The raw SystemConfig with useAlphanumericID set to `value` and every other field as it was. */
export function withUseAlphanumericID(config: Uint8Array, value: boolean): Uint8Array {
  const reader = new BinaryReader(config);
  const writer = new BinaryWriter();
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const [fieldNo, wireType] = reader.tag();
    reader.skip(wireType, fieldNo);
    if (fieldNo !== USE_ALPHANUMERIC_ID) writer.raw(config.subarray(start, reader.pos));
  }
  // proto3 leaves a false bool out; the device reads an absent field as false.
  if (value) writer.tag(USE_ALPHANUMERIC_ID, WireType.Varint).bool(true);
  return writer.finish();
}

/** A SetConfigRequest carrying a raw SystemConfig. */
export function setConfigRequest(deviceId: number, config: Uint8Array): Buffer {
  const writer = new BinaryWriter();
  if (deviceId !== 0) writer.tag(REQUEST_DEVICE_ID, WireType.Varint).uint32(deviceId);
  writer.tag(REQUEST_CONFIG, WireType.LengthDelimited).bytes(config);
  return Buffer.from(writer.finish());
}
