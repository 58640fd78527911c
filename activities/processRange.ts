/**
 * processRange: delivers one planned range of whole record blocks of a blob. It streams the bytes
 * (one ranged download), cuts them at the committed block boundaries it is given, flattens each
 * block as the record it is (so a poison block never swallows its neighbours), sends the encoded
 * events through the Event Hubs sink in size-bounded chunks, quarantines every record with an
 * issue (raw text, blob, block, reason) BEFORE it returns, and returns counts and per-minute
 * anomaly aggregates. A failure after the events of some leading blocks were all acknowledged
 * returns a "partial" result for exactly those blocks (so the orchestration commits them and never
 * sends them again); any other failure throws and the checkpoint does not move.
 */
import type { ActivityHandler } from "durable-functions";
import type { Readable } from "node:stream";
import type { BlobSource } from "../src/adapters/blobSource";
import type { NicDirectory } from "../src/adapters/nicDirectory";
import { tryParseBlobPath } from "../src/core/blobPath";
import type { EventHubsSink, SinkEventBytes } from "../src/adapters/eventHubsSink";
import type { EventSettings, PartitionKeyStrategy } from "../src/config";
import { aggregateOptionsFor, FlowEventAggregator } from "../src/core/anomaly/aggregate";
import type { AnomalyRule } from "../src/core/anomaly/rules";
import { encodeEventBytes } from "../src/core/encode";
import { compileEventFilter, NO_EVENT_FILTERS } from "../src/core/eventFilter";
import type { FlowEvent } from "../src/core/event";
import { flattenFlowLog } from "../src/core/flatten";
import { FlowLogFormatError, ServiceError, ValidationError } from "../src/errors";
import { logFailure, logger } from "../src/logger";
import { parseBlobLocationInput } from "./readBlockList";
import {
  ProcessRangeCounts,
  ProcessRangeFailure,
  ProcessRangeInput,
  ProcessRangeResult,
} from "../src/contracts/ingestionContracts";

export interface ProcessRangeDeps {
  blobSource: () => BlobSource;
  /** The configured flow-log containers: the only ones it reads (the app always passes them). */
  containers?: () => readonly string[];
  /** The flows hub sink (created once per process and reused). */
  sink: () => EventHubsSink;
  partitionKey: () => PartitionKeyStrategy;
  /** The anomaly rules: they decide which ports the aggregates count. */
  rules: () => readonly AnomalyRule[];
  /** The event schema version (and filters); default schema 2, nothing dropped. */
  events?: () => Pick<EventSettings, "schemaVersion" | "filters">;
  /** Enrichment's cache of ARM's NICs; undefined: enrichment off. */
  nicDirectory?: () => NicDirectory | undefined;
}

/**
 * Events are handed to the sink in chunks of about this many body bytes (the sink cuts them into
 * link-sized batches); a block's events may span chunks. At most two chunks are unacknowledged.
 */
const SEND_CHUNK_SIZE_IN_BYTES = 1024 * 1024;

const DEFAULT_EVENT_SETTINGS: Pick<EventSettings, "schemaVersion" | "filters"> = {
  schemaVersion: 2,
  filters: NO_EVENT_FILTERS,
};

function parseInput(input: unknown, containers: readonly string[] | undefined): ProcessRangeInput {
  const location = parseBlobLocationInput(input, "processRange", containers);
  const range = input as Partial<ProcessRangeInput>;
  const isCount = (n: unknown, min: number): n is number => Number.isSafeInteger(n) && (n as number) >= min;
  const sizes = range.blockSizesInBytes;
  if (!isCount(range.offsetInBytes, 0) || !isCount(range.countInBytes, 1) || !isCount(range.firstBlockIndex, 1)) {
    throw new ValidationError(
      `processRange ${location.container}/${location.path}: offsetInBytes >= 0, countInBytes >= 1 and firstBlockIndex >= 1 are required`,
    );
  }
  if (
    !Array.isArray(sizes) ||
    sizes.length === 0 ||
    !sizes.every((size) => isCount(size, 1)) ||
    sizes.reduce((sum: number, size: number) => sum + size, 0) !== range.countInBytes
  ) {
    throw new ValidationError(
      `processRange ${location.container}/${location.path}: blockSizesInBytes must be positive sizes that add up to countInBytes ${range.countInBytes}`,
    );
  }
  return {
    ...location,
    offsetInBytes: range.offsetInBytes,
    countInBytes: range.countInBytes,
    firstBlockIndex: range.firstBlockIndex,
    blockSizesInBytes: sizes,
  };
}

/** The partition key of an event under a strategy: its NIC, its flow log (the path before the time), or none. */
export function partitionKeyOf(strategy: PartitionKeyStrategy, event: FlowEvent): string | undefined {
  if (strategy === "mac") return event.mac ?? undefined;
  if (strategy === "flowLog") return event.blob.split("/y=")[0]?.toUpperCase() || undefined;
  return undefined;
}

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

/** The aggregates' idempotency id: the blob and the blocks they cover. */
function sourceIdOf(blobPath: string, firstBlockIndex: number, blockCount: number): string {
  return `${blobPath}#${firstBlockIndex}-${firstBlockIndex + blockCount - 1}`;
}

function failureOf(error: unknown): ProcessRangeFailure {
  const err = error instanceof Error ? error : new Error(String(error));
  // Bad input stays bad; a service says itself; anything else may be transient, as before.
  const retryable =
    err instanceof ServiceError
      ? err.retryable
      : !(err instanceof ValidationError || err instanceof FlowLogFormatError);
  return { name: err.name, message: err.message, retryable };
}

/** Yields each block's bytes, cut from the stream at the given sizes. */
async function* blocksOf(stream: Readable, sizes: readonly number[], where: string): AsyncGenerator<Buffer> {
  let index = 0;
  let parts: Buffer[] = [];
  let held = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let rest = chunk;
    while (rest.length > 0) {
      if (index >= sizes.length)
        throw new ServiceError(`Read ${where}: more bytes than the planned blocks`, { retryable: true });
      const take = Math.min(sizes[index]! - held, rest.length);
      parts.push(rest.subarray(0, take));
      held += take;
      rest = rest.subarray(take);
      if (held === sizes[index]) {
        yield parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        parts = [];
        held = 0;
        index++;
      }
    }
  }
  if (index !== sizes.length)
    throw new ServiceError(`Read ${where}: the stream ended after ${index} of ${sizes.length} blocks`, {
      retryable: true,
    });
}

export function makeProcessRange(deps: ProcessRangeDeps): ActivityHandler {
  return async (rawInput: unknown): Promise<ProcessRangeResult> => {
    const input = parseInput(rawInput, deps.containers?.());
    const { container, path } = input;
    const blobPath = `${container}/${path}`;
    const where = `${blobPath} [${input.offsetInBytes}, +${input.countInBytes})`;
    const source = deps.blobSource();
    const sink = deps.sink();
    const strategy = deps.partitionKey();
    const eventSettings = deps.events?.() ?? DEFAULT_EVENT_SETTINGS;
    const dropReasonOf = compileEventFilter(eventSettings.filters);

    // Enrichment's lookup of the blob's MAC runs while the range opens (bounded: it never fails).
    const directory = deps.nicDirectory?.();
    const blobParts = directory ? tryParseBlobPath(blobPath) : null;
    const prefetched =
      directory && blobParts?.mac ? directory.prefetch(blobParts.subscriptionId, blobParts.mac) : undefined;
    let stream: Readable;
    try {
      stream = await source.openRange(container, path, input.offsetInBytes, input.countInBytes);
      await prefetched;
    } catch (error) {
      // The blob no longer has these bytes (rewritten or truncated since the block list was read).
      if (error instanceof ValidationError) return { kind: "stale", reason: error.message };
      throw error;
    }

    const blockCount = input.blockSizesInBytes.length;
    const counts: ProcessRangeCounts = {
      tuples: 0,
      events: 0,
      dropped: 0,
      droppedByReason: {},
      lastTupleTimeIso: null,
      bytes: 0,
      records: 0,
      issues: 0,
      quarantined: 0,
    };
    /** The counts after each block read (and quarantined): its events end at `.events` among the range's. */
    const countsThroughBlock: ProcessRangeCounts[] = [];
    // Aggregated as they go: the range's events are never all held at once.
    const aggregator = new FlowEventAggregator(
      aggregateOptionsFor(deps.rules(), sourceIdOf(blobPath, input.firstBlockIndex, blockCount)),
    );
    let aggregatedEvents = 0;
    /** Chunks handed to the sink whose events are not all aggregated yet, in order. */
    const unaggregated: SendChunk[] = [];
    const aggregateThrough = (eventEnd: number): void => {
      while (unaggregated.length > 0 && aggregatedEvents < eventEnd) {
        const chunk = unaggregated[0]!;
        const chunkEnd = Math.min(eventEnd, chunk.firstEventIndex + chunk.events.length);
        for (; aggregatedEvents < chunkEnd; aggregatedEvents++)
          aggregator.add(chunk.flowEvents[aggregatedEvents - chunk.firstEventIndex]!);
        if (aggregatedEvents === chunk.firstEventIndex + chunk.events.length) unaggregated.shift();
        else break;
      }
    };
    /** Leading events of the range the service acknowledged. */
    let acknowledgedEvents = 0;
    let pending = emptyChunk(0);
    let pendingBytes = 0;
    /**
     * The last chunk handed to the sink, and the one before it. The sink builds a chunk's batches
     * while the previous one is on the wire and sends them only once it was acknowledged (so a
     * failed send never has a later chunk sent after it); the next chunk is flattened and encoded
     * meanwhile, and waits for the older one: at most two chunks are held unacknowledged.
     */
    let inFlight: Promise<unknown> = Promise.resolve();
    let previousInFlight: Promise<unknown> = Promise.resolve();
    const flush = async (): Promise<void> => {
      if (pending.events.length === 0) return;
      const chunk = pending;
      pending = emptyChunk(chunk.firstEventIndex + chunk.events.length);
      pendingBytes = 0;
      await previousInFlight;
      unaggregated.push(chunk);
      const onAcknowledged = (count: number): void => {
        acknowledgedEvents = chunk.firstEventIndex + count;
      };
      previousInFlight = inFlight;
      inFlight = sink
        .send(chunk.events, { unitEnds: chunk.unitEnds, onAcknowledged, after: inFlight })
        .then(() => aggregateThrough(chunk.firstEventIndex + chunk.events.length));
      inFlight.catch(() => undefined); // awaited (and rethrown) at a later flush or at the end
    };

    try {
      let blockIndex = input.firstBlockIndex;
      let blockOffset = input.offsetInBytes;
      for await (const block of blocksOf(stream, input.blockSizesInBytes, where)) {
        const recordIndex = blockIndex - 1;
        const result = flattenFlowLog(block, {
          blobPath,
          isBlockRange: true,
          firstRecordIndex: recordIndex,
          startOffsetInBytes: blockOffset,
          ...(directory && { enrich: directory.lookup }),
        });
        const reasons = result.issues.map((issue) => issue.message);
        if (result.records.length > 1)
          reasons.push(`block ${blockIndex} holds ${result.records.length} records, not one: its events are not sent`);
        const events = result.records.length === 1 ? result.records[0]!.events : [];
        counts.records += result.records.length;
        counts.issues += reasons.length;
        counts.tuples += events.length + result.issues.filter((issue) => issue.tupleIndex !== null).length;
        if (reasons.length > 0) {
          logger.error(`Record ${recordIndex} (block ${blockIndex}) of ${blobPath}: ${reasons.join("; ")}`);
          // Quarantined before the checkpoint can pass it: a failed write fails the activity.
          await source.quarantine({
            container,
            path,
            recordIndex,
            blockIndex,
            reason: reasons.join("; "),
            rawText: block.toString("utf8").replace(/^[\s,\uFEFF]+/, ""),
          });
          counts.quarantined++;
        }
        for (let index = 0; index < events.length; index++) {
          const event = events[index]!;
          // Canonical ISO times (core/flatten) order as text.
          if (counts.lastTupleTimeIso === null || event.time > counts.lastTupleTimeIso)
            counts.lastTupleTimeIso = event.time;
          // Cost filters: a dropped event is counted by its reason, never sent.
          const dropReason = dropReasonOf?.(event) ?? null;
          if (dropReason !== null) {
            counts.dropped++;
            counts.droppedByReason[dropReason] = (counts.droppedByReason[dropReason] ?? 0) + 1;
            continue;
          }
          counts.events++;
          const body = encodeEventBytes(event, eventSettings.schemaVersion);
          const partitionKey = partitionKeyOf(strategy, event);
          pending.events.push(
            partitionKey === undefined ? { id: event.id, body } : { id: event.id, body, partitionKey },
          );
          pending.flowEvents.push(event);
          pendingBytes += body.length;
          // A big block goes on in the next chunk: what is held unacknowledged stays bounded. Its
          // events span batches anyway, and only wholly acknowledged blocks count as delivered.
          if (pendingBytes >= SEND_CHUNK_SIZE_IN_BYTES && index < events.length - 1) await flush();
        }
        pending.unitEnds.push(pending.events.length);
        counts.bytes += block.length;
        countsThroughBlock.push({ ...counts, droppedByReason: { ...counts.droppedByReason } });
        if (pendingBytes >= SEND_CHUNK_SIZE_IN_BYTES) await flush();
        blockOffset += block.length;
        blockIndex++;
      }
      await flush();
      await inFlight;
    } catch (error) {
      // The chunk in flight may still be acknowledged: its blocks count as delivered then.
      await inFlight.catch(() => undefined);
      const completedBlockCount = countsThroughBlock.filter((through) => through.events <= acknowledgedEvents).length;
      if (completedBlockCount === 0) throw error;
      const completed = countsThroughBlock[completedBlockCount - 1]!;
      aggregateThrough(completed.events);
      const failure = failureOf(error);
      logFailure(
        `processRange ${where}: stopped after the first ${completedBlockCount} of ${blockCount} blocks, whose ${completed.events} events are acknowledged and to be committed`,
        error,
      );
      const sourceId = sourceIdOf(blobPath, input.firstBlockIndex, completedBlockCount);
      const aggregates = aggregator.result().map((aggregate) => ({ ...aggregate, sourceId }));
      return { kind: "partial", completedBlockCount, ...completed, aggregates, failure };
    }

    const aggregates = aggregator.result();
    logger.info(
      `Delivered ${where}: ${counts.events} events from ${counts.records} records, ${counts.quarantined} quarantined`,
    );
    return { kind: "processed", ...counts, aggregates };
  };
}
