import { status } from '@grpc/grpc-js';
import { Type as CardType } from '../../proto/gen/gsdk/card.js';
import { Type as DeviceType } from '../../proto/gen/gsdk/device.js';
import { TemplateFormat } from '../../proto/gen/gsdk/finger.js';
import type { UserInfo } from '../../proto/gen/gsdk/user.js';
import type { DeviceState } from '../../proto/gen/rollcall/sim/v1/sim.js';
import { decimalOfCsnCard } from '../conventions.js';

/** What the `rollcall sim` commands print: one line per result, or JSON with --json. */

/** Where the commands print; process.stdout unless a test or an embedding program says otherwise. */
export interface SimCommandOutput {
  write(text: string): void;
}

export const STDOUT: SimCommandOutput = { write: (text) => void process.stdout.write(text) };

export function printResult(out: SimCommandOutput, options: { json?: boolean }, json: unknown, human: string): void {
  out.write(options.json ? `${JSON.stringify(json, jsonBytes)}\n` : `${human}\n`);
}

/** JSON of protobuf objects: bytes as base64. */
function jsonBytes(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
    return Buffer.from((value as { data: number[] }).data).toString('base64');
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value;
}

export function describeUser(user: UserInfo): string {
  const cards = user.cards.map((c) => (c.type === CardType.CSN ? decimalOfCsnCard(c) : `${CardType[c.type] ?? c.type}`));
  const parts = [
    `user ${user.hdr?.ID ?? ''}`,
    `name=${JSON.stringify(user.name)}`,
    `cards=${user.cards.length}${cards.length > 0 ? ` [${cards.join(', ')}]` : ''}`,
    `fingers=${user.fingers.length}`,
    `faces=${user.faces.length}`,
    `pin=${user.PIN.length > 0 ? 'set' : 'none'}`,
    `accessGroups=[${user.accessGroupIDs.join(',')}]`,
  ];
  return parts.join('  ');
}

/** What the device takes: card, finger, face (its kind), PIN. */
function held(device: DeviceState): string {
  const parts: string[] = [];
  if (device.maxCardsPerUser > 0) parts.push('card');
  if (device.maxFingerprintsPerUser > 0) parts.push('finger');
  if (device.face !== 'none' && device.maxFacesPerUser > 0) parts.push(`face(${device.face})`);
  if (device.pin) parts.push('pin');
  return parts.join(',') || 'nothing';
}

export function describeDevice(device: DeviceState): string {
  const fault = device.fault;
  const faults: string[] = [];
  if (fault) {
    if (fault.latencyMs > 0) faults.push(`latency=${fault.latencyMs}ms`);
    if (fault.failNextCount > 0) faults.push(`failNext=${fault.failNextCount}x${status[fault.failNextCode] ?? fault.failNextCode}`);
    if (fault.errorRate > 0) faults.push(`errorRate=${fault.errorRate} ${status[fault.errorRateCode] ?? fault.errorRateCode}`);
    if (fault.hangCount > 0) faults.push(`hang=${fault.hangCount}`);
    if (fault.poisonUserIDs.length > 0) faults.push(`poison=${fault.poisonUserIDs.join(',')}x${status[fault.poisonCode] ?? fault.poisonCode}${fault.poisonWholeCall ? '(whole call)' : ''}`);
    if (fault.slowAboveUsers > 0) faults.push(`slowAbove=${fault.slowAboveUsers}:${fault.slowLatencyMs > 0 ? `${fault.slowLatencyMs}ms` : 'DEADLINE_EXCEEDED'}`);
  }
  return [
    `device ${device.deviceID}`,
    DeviceType[device.type] ?? String(device.type),
    device.connected ? 'connected' : 'disconnected',
    `users=${device.numOfUsers}/${device.maxUsers}`,
    `holds=${held(device)}`,
    `format=${TemplateFormat[device.templateFormat] ?? device.templateFormat}`,
    `alphanumericID=${device.useAlphanumericID}${device.alphanumericIDSupported ? '' : ' (unsupported)'}`,
    `monitoring=${device.monitoring}`,
    `lastEvent=${device.lastEventID}`,
    `${device.IPAddr}:${device.port}`,
    ...(faults.length > 0 ? [`faults: ${faults.join(' ')}`] : []),
  ].join('  ');
}
