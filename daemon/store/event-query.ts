/** What an event query selects, as one pure predicate every backend filters with. */
import type { EventQuery, StoredEvent } from '../plugins/api.js';

/** An exact kind, or a prefix when the pattern ends in '.' ('sync.' matches 'sync.enroll.failed'). */
export function kindMatches(kind: string, pattern: string): boolean {
  return pattern.endsWith('.') ? kind.startsWith(pattern) : kind === pattern;
}

export function eventMatches(event: StoredEvent, query: EventQuery): boolean {
  if (query.afterId !== undefined && event.id <= query.afterId) return false;
  if (query.since !== undefined && event.at < query.since) return false;
  if (query.until !== undefined && event.at >= query.until) return false;
  if (query.userId !== undefined && event.userId !== query.userId) return false;
  if (query.deviceId !== undefined && event.deviceId !== query.deviceId) return false;
  if (query.kind !== undefined && !kindMatches(event.kind, query.kind)) return false;
  return true;
}
