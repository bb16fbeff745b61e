/**
 * Exit codes of `rollcall run`, `check-config` and `store repair`. They follow sysexits where
 * one fits: 0 ok, 1 failure, 64 usage, 65 damaged store (EX_DATAERR), 78 invalid config
 * (EX_CONFIG). systemd/rollcall.service lists 65 and 78 in RestartPreventExitStatus: a
 * restart cannot mend either.
 */
import { isRollcallError } from './errors.js';

export const EXIT = { OK: 0, FAILURE: 1, USAGE: 64, DATA: 65, CONFIG: 78 } as const;

/**
 * A store that is damaged or corrupt does not heal by restarting: the daemon exits 65 and
 * waits for `rollcall store repair`. Nor does a database a newer rollcall migrated (65 too).
 */
export function startFailureExit(error: unknown): number {
  // A master gateway at gateway.address is a config mistake: restarting cannot mend it.
  if (isRollcallError(error, 'ROLLCALL_ERR_GATEWAY_UNSUPPORTED')) return EXIT.CONFIG;
  const data = ['ROLLCALL_ERR_STORE_DAMAGED', 'ROLLCALL_ERR_STORE_CORRUPT', 'ROLLCALL_ERR_STORE_VERSION'] as const;
  return data.some((code) => isRollcallError(error, code)) ? EXIT.DATA : EXIT.FAILURE;
}
