import { type PreparedUser, type StoredUser, storedUserOf } from './user-record.js';

/**
 * Interns stored users by content, so that 100 devices holding the same user share one
 * buffer. Each device's map points at the shared record; the pool counts the holders and
 * forgets a record when the last one lets go.
 */
export class UserContentPool {
  private readonly records = new Map<string, StoredUser>();

  get size(): number {
    return this.records.size;
  }

  acquire(prepared: PreparedUser): StoredUser {
    const existing = this.records.get(prepared.key);
    if (existing) {
      if (existing.bytes.equals(prepared.bytes)) {
        existing.refs += 1;
        return existing;
      }
      // A hash collision: keep the record private rather than share the wrong bytes.
      return storedUserOf(prepared, '');
    }
    const record = storedUserOf(prepared, prepared.key);
    record.refs = 1;
    this.records.set(prepared.key, record);
    return record;
  }

  release(record: StoredUser): void {
    if (record.key === '') return;
    record.refs -= 1;
    if (record.refs <= 0) this.records.delete(record.key);
  }
}
