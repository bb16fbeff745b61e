import { status } from '@grpc/grpc-js';
import { SimError } from './sim-error.js';

/**
 * Users whose reads fail on one device (control service: SetUserReadFault): every gsdk
 * call that reads one of them back (Get, GetPartial, GetCard, ...) fails with that user's
 * code, as a device whose record of the user is damaged would; other calls and other users
 * are untouched. Cleared by ClearFaults.
 */
export class UserReadFaults {
  private readonly codes = new Map<string, number>();

  /** `code` 0 (OK) lifts the fault of these users. */
  set(userIds: readonly string[], code: number): void {
    for (const id of userIds) {
      if (code === status.OK) this.codes.delete(id);
      else this.codes.set(id, code);
    }
  }

  clear(): void {
    this.codes.clear();
  }

  get size(): number {
    return this.codes.size;
  }

  /** Throws the fault of the first faulty user among `userIds`. */
  check(deviceId: number, userIds: readonly string[]): void {
    if (this.codes.size === 0) return;
    for (const id of userIds) {
      const code = this.codes.get(id);
      if (code !== undefined) throw new SimError(code, `device ${deviceId}: user ${id} could not be read (injected read fault)`);
    }
  }
}
