/**
 * The event log: Events (newest, or a page from a time) and FollowEvents (a backlog, then new
 * events until cancelled).
 */
import type { Event, EventsRequest, EventsResponse, FollowEventsRequest } from '../../../proto/gen/rollcall/admin/v1/admin.js';
import * as check from '../requests.js';
import { eventsPage, followEvents, latestEventId, newestEvents } from '../event-reader.js';
import { eventShape } from '../shapes/event.js';
import type { Emit, RequestContext } from './context.js';

export class EventService {
  readonly #c: RequestContext;

  constructor(context: RequestContext) {
    this.#c = context;
  }

  async events(request: EventsRequest): Promise<EventsResponse> {
    const store = this.#c.store();
    const limit = check.pageLimit('limit', request.limit);
    const query = check.eventQuery({
      ...(request.sinceMs !== undefined ? { sinceMs: request.sinceMs } : {}),
      ...(request.untilMs !== undefined ? { untilMs: request.untilMs } : {}),
      ...(request.userId !== undefined ? { userId: request.userId } : {}),
      ...(request.deviceId !== undefined ? { deviceId: request.deviceId } : {}),
      ...(request.kind !== undefined ? { kind: request.kind } : {}),
    });
    if (request.afterId !== undefined) query.afterId = request.afterId;
    const found = query.since === undefined && query.afterId === undefined ? await newestEvents(store, query, limit, this.#c.now()) : await eventsPage(store, query, limit);
    return { events: found.events.map(eventShape.toWire), more: found.more };
  }

  async followEvents(request: FollowEventsRequest, emit: Emit<Event>, signal: AbortSignal): Promise<void> {
    const store = this.#c.store();
    const backlog = check.pageLimit('backlog', request.backlog, 0, check.MAX_PAGE);
    const query = check.eventQuery({
      ...(request.userId !== undefined ? { userId: request.userId } : {}),
      ...(request.deviceId !== undefined ? { deviceId: request.deviceId } : {}),
      ...(request.kind !== undefined ? { kind: request.kind } : {}),
      ...(request.sinceMs !== undefined ? { sinceMs: request.sinceMs } : {}),
    });
    // Everything up to `start` comes from the backlog; everything after it from following,
    // so an event written in between is sent once.
    const start = await latestEventId(store, this.#c.now());
    if (query.since !== undefined) {
      let afterId: number | undefined;
      for (;;) {
        const page = await store.queryEvents({ ...query, ...(afterId !== undefined ? { afterId } : {}), limit: 1000 });
        for (const event of page) if (event.id <= start) await emit(eventShape.toWire(event));
        if (page.length < 1000 || page[page.length - 1]!.id > start) break;
        afterId = page[page.length - 1]!.id;
      }
    } else if (backlog > 0) {
      const { events } = await newestEvents(store, query, backlog, this.#c.now());
      for (const event of events) if (event.id <= start) await emit(eventShape.toWire(event));
    }
    const { since: _since, ...follow } = query;
    await followEvents(store, follow, { afterId: start, pollMs: this.#c.followPollMs, signal }, (event) => emit(eventShape.toWire(event)));
  }
}
