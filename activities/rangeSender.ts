/**
 * The sending side of processRange: hands a range's encoded events to the Event Hubs sink in
 * size-bounded chunks, at most two unacknowledged at a time, keeps count of the leading events the
 * service acknowledged (so a failed range can commit exactly its wholly delivered blocks) and feeds
 * the anomaly aggregator only with acknowledged events.
 */
import type { EncodedEvent, EventHubsSink, SinkEventBytes } from "../src/adapters/eventHubsSink";
import type { FlowEventAggregator } from "../src/core/anomaly/aggregate";
import type { FlowEvent } from "../src/core/event";

/**
 * Events are handed to the sink in chunks of about this many body bytes (the sink cuts them into
 * link-sized batches); a block's events may span chunks. At most two chunks are unacknowledged.
 */
export const SEND_CHUNK_SIZE_IN_BYTES = 1024 * 1024;

/** Events of consecutive blocks (the first and last possibly in part) handed to the sink in one call. */
interface SendChunk {
  events: SinkEventBytes[];
  /** Aggregated once acknowledged, so the aggregates never cover a block that is not delivered. */
  flowEvents: FlowEvent[];
  /** Events of the range before this chunk. */
  firstEventIndex: number;
  /**
   * Per block ending in the chunk: the chunk's events through that block (the sink keeps blocks whole in batches when
   * they fit one).
   */
  unitEnds: number[];
}

function emptyChunk(firstEventIndex: number): SendChunk {
  return { events: [], flowEvents: [], firstEventIndex, unitEnds: [] };
}

export class RangeSender {
  /** Leading events of the range the service acknowledged. */
  acknowledgedEvents = 0;
  private aggregatedEvents = 0;
  /** Chunks handed to the sink whose events are not all aggregated yet, in order. */
  private readonly unaggregated: SendChunk[] = [];
  private pending = emptyChunk(0);
  private pendingBytes = 0;
  /**
   * The last chunk handed to the sink, and the one before it. The sink builds a chunk's batches
   * while the previous one is on the wire and sends them only once it was acknowledged (so a
   * failed send never has a later chunk sent after it); the next chunk is flattened and encoded
   * meanwhile, and waits for the older one: at most two chunks are held unacknowledged.
   */
  private inFlight: Promise<unknown> = Promise.resolve();
  private previousInFlight: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly sink: EventHubsSink,
    private readonly aggregator: FlowEventAggregator,
  ) {}

  /** Adds one event (as the sink's encode gives it); true when the chunk is full (the caller flushes when it may). */
  add(event: FlowEvent, encoded: EncodedEvent, partitionKey: string | undefined): boolean {
    this.pending.events.push(
      partitionKey === undefined ? { id: event.id, ...encoded } : { id: event.id, ...encoded, partitionKey },
    );
    this.pending.flowEvents.push(event);
    this.pendingBytes += encoded.body.length;
    return this.isFull();
  }

  isFull(): boolean {
    return this.pendingBytes >= SEND_CHUNK_SIZE_IN_BYTES;
  }

  /** Marks the end of a block: the sink keeps it whole in a batch when it fits one. */
  endBlock(): void {
    this.pending.unitEnds.push(this.pending.events.length);
  }

  /** Hands the pending chunk to the sink once the chunk before the one in flight is acknowledged. */
  async flush(): Promise<void> {
    if (this.pending.events.length === 0) return;
    const chunk = this.pending;
    this.pending = emptyChunk(chunk.firstEventIndex + chunk.events.length);
    this.pendingBytes = 0;
    await this.previousInFlight;
    this.unaggregated.push(chunk);
    const onAcknowledged = (count: number): void => {
      this.acknowledgedEvents = chunk.firstEventIndex + count;
    };
    this.previousInFlight = this.inFlight;
    this.inFlight = this.sink
      .send(chunk.events, { unitEnds: chunk.unitEnds, onAcknowledged, after: this.inFlight })
      .then(() => this.aggregateThrough(chunk.firstEventIndex + chunk.events.length));
    this.inFlight.catch(() => undefined); // awaited (and rethrown) at a later flush or at the end
  }

  /** Sends what is pending and waits until every event is acknowledged (throws the first failure). */
  async finish(): Promise<void> {
    await this.flush();
    await this.inFlight;
  }

  /** After a failure: waits for the chunk in flight, which may still be acknowledged. */
  async settle(): Promise<void> {
    await this.inFlight.catch(() => undefined);
  }

  /** Aggregates the range's events up to `eventEnd` (exclusive) that are not aggregated yet. */
  aggregateThrough(eventEnd: number): void {
    while (this.unaggregated.length > 0 && this.aggregatedEvents < eventEnd) {
      const chunk = this.unaggregated[0]!;
      const chunkEnd = Math.min(eventEnd, chunk.firstEventIndex + chunk.events.length);
      for (; this.aggregatedEvents < chunkEnd; this.aggregatedEvents++)
        this.aggregator.add(chunk.flowEvents[this.aggregatedEvents - chunk.firstEventIndex]!);
      if (this.aggregatedEvents === chunk.firstEventIndex + chunk.events.length) this.unaggregated.shift();
      else break;
    }
  }
}
