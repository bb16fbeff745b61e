import type { Command } from 'commander';
import { RollcallError } from '../../daemon/errors.js';
import { TemplateFormat } from '../../proto/gen/gsdk/finger.js';
import { UserHdr, type UserClient, type UserInfo } from '../../proto/gen/gsdk/user.js';
import { csnCardFromDecimal, simulatedFinger } from '../conventions.js';
import { call } from './control-client.js';
import { collect, count, deviceId, integer, templateFormat } from './option-values.js';

/** What a person at the device enters, as `rollcall sim enroll` and `update` options. */

export interface UserOptions {
  device: number;
  user: string;
  name?: string;
  card?: string[];
  pin?: string;
  fingers?: number;
  fingerTemplateFormat?: TemplateFormat;
  accessGroup?: string[];
}

async function pinHash(user: UserClient, pin: string): Promise<Buffer> {
  const response = await call('GetPINHash', user.getPinHash.bind(user), { PIN: pin });
  return response.hashVal;
}

/** Applies the parts given on the command line to `base`; parts not given keep base's value. */
export async function userFromOptions(base: UserInfo, options: UserOptions, user: UserClient): Promise<UserInfo> {
  const next: UserInfo = { ...base, hdr: UserHdr.fromPartial({ ...base.hdr, ID: options.user, updateMask: 0 }) };
  if (options.name !== undefined) next.name = options.name;
  if (options.card !== undefined) {
    try {
      next.cards = options.card.map(csnCardFromDecimal);
    } catch (error) {
      throw new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', `--card: ${(error as Error).message}`);
    }
  }
  if (options.pin !== undefined) next.PIN = options.pin === '' ? Buffer.alloc(0) : await pinHash(user, options.pin);
  if (options.fingers !== undefined || options.fingerTemplateFormat !== undefined) {
    const format = options.fingerTemplateFormat ?? TemplateFormat.SUPREMA;
    next.fingers = Array.from({ length: options.fingers ?? 1 }, (_, i) => simulatedFinger(format, i));
  }
  if (options.accessGroup !== undefined) next.accessGroupIDs = options.accessGroup.map(integer('--access-group', 1, 0xffff_ffff));
  return next;
}

export function addUserOptions(command: Command): Command {
  return command
    .requiredOption('--device <id>', 'device ID', deviceId)
    .requiredOption('--user <id>', 'user ID')
    .option('--name <name>', 'user name')
    .option('--card <csn>', 'a CSN card, in decimal (repeatable; replaces the cards)', collect)
    .option('--pin <pin>', 'PIN, hashed by the simulator\'s GetPINHash (empty string clears it)')
    .option('--fingers <n>', 'number of synthetic fingers (replaces the fingers)', count)
    .option('--finger-template-format <format>', 'SUPREMA, ISO or ANSI: the tag of the synthetic templates (default SUPREMA)', templateFormat)
    .option('--access-group <id>', 'access group ID (repeatable; replaces the access groups)', collect);
}
