import { Metadata, type ServerWritableStream } from '@grpc/grpc-js';
import type { StatusChange } from '../proto/gen/gsdk/connect.js';
import type { EventLog } from '../proto/gen/gsdk/event.js';
import { BoundedStream } from './bounded-stream.js';

/**
 * The gateway's two server streams, SubscribeRealtimeLog and SubscribeStatus: who is
 * subscribed, with which filter, and how many messages reached them or were dropped. The
 * gateway decides what is worth sending (a monitored, connected device's event; a status
 * that changed); this fans it out.
 */

interface RealtimeSubscription {
  stream: BoundedStream<EventLog>;
  deviceIds: ReadonlySet<number> | undefined;
  eventCodes: ReadonlySet<number> | undefined;
}

export interface StreamStats {
  delivered: number;
  dropped: number;
}

export class GatewayStreams {
  private readonly queueDefault: number;
  private readonly realtime = new Set<RealtimeSubscription>();
  private readonly statusStreams = new Set<BoundedStream<StatusChange>>();
  private readonly counts = { realtime: { delivered: 0, dropped: 0 }, status: { delivered: 0, dropped: 0 } };

  /** `queueDefault` is the queue length of a subscription that asks for queueSize 0. */
  constructor(queueDefault: number) {
    this.queueDefault = queueDefault;
  }

  subscribeRealtime(
    call: ServerWritableStream<unknown, EventLog>,
    queueSize: number,
    deviceIds: readonly number[],
    eventCodes: readonly number[],
  ): void {
    const subscription: RealtimeSubscription = {
      stream: new BoundedStream(call, queueSize > 0 ? queueSize : this.queueDefault),
      deviceIds: deviceIds.length > 0 ? new Set(deviceIds) : undefined,
      eventCodes: eventCodes.length > 0 ? new Set(eventCodes) : undefined,
    };
    this.keepUntilClosed(call, this.realtime, subscription);
  }

  subscribeStatus(call: ServerWritableStream<unknown, StatusChange>, queueSize: number): void {
    this.keepUntilClosed(call, this.statusStreams, new BoundedStream(call, queueSize > 0 ? queueSize : this.queueDefault));
  }

  get hasRealtimeSubscribers(): boolean {
    return this.realtime.size > 0;
  }

  /** Offers an event to every realtime subscription whose filter takes it. */
  deliver(event: EventLog): void {
    for (const { stream, deviceIds, eventCodes } of this.realtime) {
      if (deviceIds && !deviceIds.has(event.deviceID)) continue;
      if (eventCodes && !eventCodes.has(event.eventCode)) continue;
      if (stream.offer(event)) this.counts.realtime.delivered += 1;
      else if (!stream.isClosed) this.counts.realtime.dropped += 1;
    }
  }

  /** Offers a status change to every status stream. */
  announce(change: StatusChange): void {
    for (const stream of this.statusStreams) {
      if (stream.offer(change)) this.counts.status.delivered += 1;
      else if (!stream.isClosed) this.counts.status.dropped += 1;
    }
  }

  stats(): { realtime: StreamStats; status: StreamStats } {
    return { realtime: { ...this.counts.realtime }, status: { ...this.counts.status } };
  }

  /** Ends every stream with OK. */
  close(): void {
    for (const subscription of this.realtime) subscription.stream.end();
    for (const stream of this.statusStreams) stream.end();
    this.realtime.clear();
    this.statusStreams.clear();
  }

  /** Holds `entry` in `set` until its call ends, then tells the client the subscription is live. */
  private keepUntilClosed<T>(call: ServerWritableStream<unknown, unknown>, set: Set<T>, entry: T): void {
    set.add(entry);
    const forget = (): void => {
      set.delete(entry);
    };
    call.on('cancelled', forget);
    call.on('close', forget);
    // Headers now tell the client the subscription is live: messages from here on reach it.
    call.sendMetadata(new Metadata());
  }
}
