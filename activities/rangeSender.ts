/**
 * The sending side of processRange: hands a range's events to every configured sink (the Event Hubs
 * sink, encoded; the Logs Ingestion sink, as ASIM rows) in size-bounded chunks, at most two
 * unacknowledged at a time, and keeps count of the leading events EVERY sink acknowledged (so a failed
 * range commits exactly the blocks all sinks have).
 */
import type { EncodedEvent, EventHubsSink, SinkEventBytes } from "../src/adapters/eventHubsSink";
import type { LogsIngestionSink } from "../src/adapters/logsIngestionSink";
import type { FlowEvent } from "../src/core/event";

/**
 * Events are handed to the sink in chunks of about this many body bytes (the sink cuts them into
 * link-sized batches); a block's events may span chunks. At most two chunks are unacknowledged.
 */
export const SEND_CHUNK_SIZE_IN_BYTES = 1024 * 1024;
/** Without Event Hubs (no encoded bodies to measure): events per chunk (ASIM rows are ~0.5-1 KB of JSON each). */
export const SEND_CHUNK_EVENTS = 2048;

/** The sinks a range goes to; at least one. */
export interface RangeSinks {
  /** The flows hub; undefined when FLOWTAP_SINKS is loganalytics. */
  eventHubs: EventHubsSink | undefined;
  /** Log Analytics; undefined when FLOWTAP_SINKS is eventhubs. */
  logsIngestion: LogsIngestionSink | undefined;
}

/** Events of consecutive blocks (the first and last possibly in part) handed to the sink in one call. */
interface SendChunk {
  events: SinkEventBytes[];
  /** The events themselves, held only for the Logs Ingestion sink (it maps them to its rows). */
  flowEvents: FlowEvent[];
  eventCount: number;
  /** Events of the range before this chunk. */
  firstEventIndex: number;
  /**
   * Per block ending in the chunk: the chunk's events through that block (the sink keeps blocks whole in batches when
   * they fit one).
   */
  unitEnds: number[];
}

function emptyChunk(firstEventIndex: number): SendChunk {
  return { events: [], flowEvents: [], eventCount: 0, firstEventIndex, unitEnds: [] };
}

export class RangeSender {
  /** Per configured sink: the leading events of the range it acknowledged. */
  private readonly acknowledgedBySink: { eventHubs?: number; logsIngestion?: number } = {};
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

  constructor(private readonly sinks: RangeSinks) {
    if (sinks.eventHubs) this.acknowledgedBySink.eventHubs = 0;
    if (sinks.logsIngestion) this.acknowledgedBySink.logsIngestion = 0;
    if (!sinks.eventHubs && !sinks.logsIngestion) throw new Error("RangeSender: no sink configured");
  }

  /** Leading events of the range every configured sink acknowledged. */
  get acknowledgedEvents(): number {
    return Math.min(...Object.values(this.acknowledgedBySink));
  }

  /** Whether events need their encoded body (the Event Hubs sink sends it). */
  private get needsBodies(): boolean {
    return this.sinks.eventHubs !== undefined;
  }

  /**
   * Adds one event (as the Event Hubs sink's encode gives it, when that sink is configured); true when the chunk is
   * full (the caller flushes when it may).
   */
  add(event: FlowEvent, encoded: EncodedEvent | undefined, partitionKey: string | undefined): boolean {
    if (encoded !== undefined) {
      // One shape for every event (no spread): the sink's loops over them stay monomorphic.
      this.pending.events.push({ id: event.id, body: encoded.body, shared: encoded.shared, partitionKey });
      this.pendingBytes += encoded.body.length;
    }
    // Only the Logs Ingestion sink needs the event once it is encoded: held otherwise, it would cost the GC.
    if (this.sinks.logsIngestion) this.pending.flowEvents.push(event);
    this.pending.eventCount++;
    return this.isFull();
  }

  isFull(): boolean {
    return this.needsBodies
      ? this.pendingBytes >= SEND_CHUNK_SIZE_IN_BYTES
      : this.pending.eventCount >= SEND_CHUNK_EVENTS;
  }

  /** Marks the end of a block: the sink keeps it whole in a batch when it fits one. */
  endBlock(): void {
    this.pending.unitEnds.push(this.pending.eventCount);
  }

  /** Hands the pending chunk to the sink once the chunk before the one in flight is acknowledged. */
  async flush(): Promise<void> {
    if (this.pending.eventCount === 0) return;
    const chunk = this.pending;
    const chunkEnd = chunk.firstEventIndex + chunk.eventCount;
    this.pending = emptyChunk(chunkEnd);
    this.pendingBytes = 0;
    await this.previousInFlight;
    const after = this.inFlight;
    const acknowledging = (sink: keyof RangeSinks) => (count: number) => {
      this.acknowledgedBySink[sink] = chunk.firstEventIndex + count;
    };
    const { eventHubs, logsIngestion } = this.sinks;
    const sends = [
      eventHubs?.send(chunk.events, { unitEnds: chunk.unitEnds, onAcknowledged: acknowledging("eventHubs"), after }),
      logsIngestion?.send(chunk.flowEvents, { onAcknowledged: acknowledging("logsIngestion"), after }),
    ];
    this.previousInFlight = this.inFlight;
    // Every sink's send settles before the chunk counts (or fails): none is left running after a failure.
    this.inFlight = Promise.allSettled(sends).then((results) => {
      const failed = results.find((result) => result.status === "rejected");
      if (failed) throw failed.reason;
    });
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
}
