import { status } from '@grpc/grpc-js';
import { RollcallError } from '../../daemon/errors.js';
import { Type as DeviceType } from '../../proto/gen/gsdk/device.js';
import { TemplateFormat } from '../../proto/gen/gsdk/finger.js';

/** Readers of `rollcall sim` option values: each checks its text and says what was wrong. */

export function integer(name: string, min: number, max: number) {
  return (text: string): number => {
    const value = Number(text);
    if (!/^-?[0-9]+$/.test(text.trim()) || value < min || value > max) {
      throw new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
    }
    return value;
  };
}

export const deviceId = integer('--device', 1, 0xffff_ffff);
export const count = integer('a count', 0, 0xffff_ffff);

export function fraction(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', `--error-rate must be from 0 to 1, got ${JSON.stringify(text)}`);
  }
  return value;
}

export function grpcCode(text: string): number {
  const byName = (status as unknown as Record<string, number>)[text.toUpperCase()];
  if (byName !== undefined) return byName;
  return integer('a gRPC code', 1, 16)(text);
}

export function templateFormat(text: string): TemplateFormat {
  const value = TemplateFormat[text.toUpperCase() as keyof typeof TemplateFormat];
  if (value === undefined || value === TemplateFormat.UNRECOGNIZED) {
    throw new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', `template format must be SUPREMA, ISO or ANSI, got ${JSON.stringify(text)}`);
  }
  return value;
}

export function deviceType(text: string): DeviceType {
  const byName = DeviceType[text.toUpperCase() as keyof typeof DeviceType];
  if (typeof byName === 'number' && byName > 0) return byName;
  return integer('--type', 1, 255)(text);
}

export function boolean(text: string): boolean {
  if (/^(true|yes|on|1)$/i.test(text)) return true;
  if (/^(false|no|off|0)$/i.test(text)) return false;
  throw new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', `expected true or false, got ${JSON.stringify(text)}`);
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
