/**
 * processRange: delivers one planned range of whole record blocks of a blob. It streams the bytes
 * (one ranged download), cuts them at the committed block boundaries it is given, flattens each
 * block as the record it is (so a poison block never swallows its neighbours), sends the events to
 * every configured sink (Event Hubs, Log Analytics) in size-bounded chunks (rangeSender), quarantines every record
 * with an issue (raw text, blob, block, reason) BEFORE it returns, and returns counts and per-minute
 * anomaly aggregates. A failure after the events of some leading blocks were all acknowledged
 * (by every sink) returns a "partial" result for exactly those blocks, with their aggregates alone (so the
 * orchestration commits them and never sends them again); any other failure throws and the checkpoint does not move.
 * A blob without a block list (Put Blob) comes as one range of the whole blob at an etag: it is
 * split into its records as it streams, and delivered all or nothing (its checkpoint is one step).
 */
import type { ActivityHandler } from "durable-functions";
import type { Readable } from "node:stream";
import type { BlobSource } from "../src/adapters/blobSource";
import type { EventHubsSink } from "../src/adapters/eventHubsSink";
import type { LogsIngestionSink } from "../src/adapters/logsIngestionSink";
import type { NicDirectory } from "../src/adapters/nicDirectory";
import type { EventSettings, PartitionKeyStrategy } from "../src/config";
import { tryParseBlobPath } from "../src/core/blobPath";
import { compileEventFilter, NO_EVENT_FILTERS, type EventFilter } from "../src/core/eventFilter";
import { aggregateOptionsFor, FlowEventAggregator, type MinuteAggregate } from "../src/core/anomaly/aggregate";
import type { AnomalyRule } from "../src/core/anomaly/rules";
import type { FlowEvent } from "../src/core/event";
import { flattenFlowLog } from "../src/core/flatten";
import { FlowLogRecordSplitter, type FlowLogIssue, type SplitResult } from "../src/core/records";
import { FlowLogFormatError, ServiceError, ValidationError } from "../src/errors";
import { logFailure, logger } from "../src/logger";
import { parseBlobLocationInput } from "./readBlockList";
import { RangeSender } from "./rangeSender";
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
  /** The flows hub sink (created once per process and reused); undefined when FLOWTAP_SINKS is loganalytics. */
  sink: () => EventHubsSink | undefined;
  /** The Log Analytics sink when FLOWTAP_SINKS is loganalytics or both: a range counts once every sink has it. */
  logsIngestionSink?: () => LogsIngestionSink | undefined;
  partitionKey: () => PartitionKeyStrategy;
  /** The anomaly rules: they decide which ports the aggregates count. */
  rules: () => readonly AnomalyRule[];
  /** The event schema version (and filters); default schema 2, nothing dropped. */
  events?: () => Pick<EventSettings, "schemaVersion" | "filters">;
  /** Enrichment's cache of ARM's NICs; undefined: enrichment off. */
  nicDirectory?: () => NicDirectory | undefined;
}

const DEFAULT_EVENT_SETTINGS: Pick<EventSettings, "schemaVersion" | "filters"> = {
  schemaVersion: 2,
  filters: NO_EVENT_FILTERS,
};

const isCount = (n: unknown, min: number): n is number => Number.isSafeInteger(n) && (n as number) >= min;

function parseInput(input: unknown, containers: readonly string[] | undefined): ProcessRangeInput {
  const location = parseBlobLocationInput(input, "processRange", containers);
  const range = input as Partial<ProcessRangeInput>;
  const where = `processRange ${location.container}/${location.path}`;
  const sizes = range.blockSizesInBytes;
  const whole = range.wholeBlobEtag;
  if (whole !== undefined && (typeof whole !== "string" || whole === "" || range.firstBlockIndex !== 0)) {
    throw new ValidationError(`${where}: wholeBlobEtag must be a non-empty etag, with firstBlockIndex 0`);
  }
  const minFirstBlock = whole === undefined ? 1 : 0;
  if (!isCount(range.offsetInBytes, 0) || !isCount(range.countInBytes, 1) || !isCount(range.firstBlockIndex, 0)) {
    throw new ValidationError(`${where}: offsetInBytes >= 0, countInBytes >= 1 and firstBlockIndex are required`);
  }
  if (range.firstBlockIndex < minFirstBlock) throw new ValidationError(`${where}: firstBlockIndex must be >= 1`);
  if (
    !Array.isArray(sizes) ||
    sizes.length === 0 ||
    !sizes.every((size) => isCount(size, 1)) ||
    sizes.reduce((sum: number, size: number) => sum + size, 0) !== range.countInBytes
  ) {
    throw new ValidationError(
      `${where}: blockSizesInBytes must be positive sizes that add up to countInBytes ${range.countInBytes}`,
    );
  }
  return {
    ...location,
    offsetInBytes: range.offsetInBytes,
    countInBytes: range.countInBytes,
    firstBlockIndex: range.firstBlockIndex,
    blockSizesInBytes: sizes,
    ...(whole !== undefined && { wholeBlobEtag: whole }),
  };
}

/** The partition key of an event under a strategy: its NIC, its flow log (the path before the time), or none. */
export function partitionKeyOf(strategy: PartitionKeyStrategy, event: FlowEvent): string | undefined {
  if (strategy === "mac") return event.mac ?? undefined;
  if (strategy === "flowLog") return event.blob.split("/y=")[0]?.toUpperCase() || undefined;
  return undefined;
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

/** One record's bytes as read: a committed block, or one record of a blob written whole. */
interface RecordUnit {
  blockIndex: number;
  recordIndex: number;
  offsetInBytes: number;
  bytes: Buffer;
  /** Problems the whole-blob splitter found next to this record (outside of any record). */
  splitIssues: FlowLogIssue[];
}

/** Yields each block's bytes, cut from the stream at the given sizes. */
async function* blocksOf(stream: Readable, input: ProcessRangeInput, where: string): AsyncGenerator<RecordUnit> {
  const sizes = input.blockSizesInBytes;
  let index = 0;
  let parts: Buffer[] = [];
  let held = 0;
  let offsetInBytes = input.offsetInBytes;
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
        const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        const blockIndex = input.firstBlockIndex + index;
        yield { blockIndex, recordIndex: blockIndex - 1, offsetInBytes, bytes, splitIssues: [] };
        offsetInBytes += bytes.length;
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

/** The records of a blob written whole, as they complete in the stream (block index 0: the one pseudo-block). */
async function* recordsOf(stream: Readable): AsyncGenerator<RecordUnit> {
  const splitter = new FlowLogRecordSplitter();
  let nextRecordIndex = 0;
  const unitsOf = (split: SplitResult): RecordUnit[] => {
    const units: RecordUnit[] = split.records.map((record) => ({
      blockIndex: 0,
      recordIndex: record.recordIndex,
      offsetInBytes: record.byteOffset,
      bytes: Buffer.from(record.text, "utf8"),
      splitIssues: [],
    }));
    const last = split.records.at(-1);
    if (last) nextRecordIndex = last.recordIndex + 1;
    if (split.issues.length > 0) {
      const recordIndex = split.issues[0]!.recordIndex ?? nextRecordIndex;
      const offsetInBytes = split.issues[0]!.byteOffset ?? 0;
      units.push({ blockIndex: 0, recordIndex, offsetInBytes, bytes: Buffer.alloc(0), splitIssues: split.issues });
    }
    return units;
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) yield* unitsOf(splitter.push(chunk));
  yield* unitsOf(splitter.end());
}

/** A unit's events and the reasons to quarantine it (none: it is clean). */
function flattenUnit(unit: RecordUnit, blobPath: string, directory: NicDirectory | undefined) {
  const result = flattenFlowLog(unit.bytes, {
    blobPath,
    isBlockRange: true,
    firstRecordIndex: unit.recordIndex,
    startOffsetInBytes: unit.offsetInBytes,
    ...(directory && { enrich: directory.lookup }),
  });
  const issues = [...unit.splitIssues, ...result.issues];
  const reasons = issues.map((issue) => issue.message);
  if (result.records.length > 1)
    reasons.push(`block ${unit.blockIndex} holds ${result.records.length} records, not one: its events are not sent`);
  const events = result.records.length === 1 ? result.records[0]!.events : [];
  const tuples = events.length + issues.filter((issue) => issue.tupleIndex !== null).length;
  return { events, reasons, tuples, records: result.records.length };
}

/** Opens the range's bytes, or says why they are stale (the blob changed since its block list was read). */
async function openRangeOf(source: BlobSource, input: ProcessRangeInput): Promise<Readable | { stale: string }> {
  try {
    const ifMatch = input.wholeBlobEtag;
    return await source.openRange(input.container, input.path, input.offsetInBytes, input.countInBytes, {
      ...(ifMatch !== undefined && { ifMatch }),
    });
  } catch (error) {
    if (error instanceof ValidationError) return { stale: error.message };
    throw error;
  }
}

/** One range's delivery: read, flatten, quarantine, send, count. */
class RangeDelivery {
  readonly blobPath: string;
  readonly where: string;
  readonly counts: ProcessRangeCounts = {
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
  readonly countsThroughBlock: ProcessRangeCounts[] = [];
  // Aggregated block by block once sent: the range's events are never all held at once.
  readonly aggregator: FlowEventAggregator;
  readonly sender: RangeSender;
  /** The blocks read so far (not of a blob written whole): a failure aggregates the delivered ones again. */
  private readonly blocks: RecordUnit[] = [];
  private readonly rules: readonly AnomalyRule[];
  private readonly eventHubsSink: EventHubsSink | undefined;
  private readonly strategy: PartitionKeyStrategy;
  private readonly eventSettings: Pick<EventSettings, "schemaVersion" | "filters">;
  private readonly dropReasonOf: EventFilter | null;
  readonly directory: NicDirectory | undefined;

  constructor(
    private readonly input: ProcessRangeInput,
    deps: ProcessRangeDeps,
    private readonly source: BlobSource,
  ) {
    this.blobPath = `${input.container}/${input.path}`;
    this.where = `${this.blobPath} [${input.offsetInBytes}, +${input.countInBytes})`;
    const blockCount = input.blockSizesInBytes.length;
    this.rules = deps.rules();
    this.aggregator = new FlowEventAggregator(
      aggregateOptionsFor(this.rules, sourceIdOf(this.blobPath, input.firstBlockIndex, blockCount)),
    );
    this.eventHubsSink = deps.sink();
    this.sender = new RangeSender({ eventHubs: this.eventHubsSink, logsIngestion: deps.logsIngestionSink?.() });
    this.strategy = deps.partitionKey();
    this.eventSettings = deps.events?.() ?? DEFAULT_EVENT_SETTINGS;
    this.dropReasonOf = compileEventFilter(this.eventSettings.filters);
    this.directory = deps.nicDirectory?.();
  }

  /** Enrichment's lookup of the blob's MAC, started while the range opens (bounded: it never fails). */
  prefetch(): Promise<unknown> | undefined {
    const blobParts = this.directory ? tryParseBlobPath(this.blobPath) : null;
    return this.directory && blobParts?.mac
      ? this.directory.prefetch(blobParts.subscriptionId, blobParts.mac)
      : undefined;
  }

  /** Reads, quarantines and sends every record of the range, then waits for every acknowledgement. */
  async deliver(stream: Readable): Promise<void> {
    const whole = this.input.wholeBlobEtag !== undefined;
    const units = whole ? recordsOf(stream) : blocksOf(stream, this.input, this.where);
    for await (const unit of units) {
      const { events, reasons, tuples, records } = flattenUnit(unit, this.blobPath, this.directory);
      this.counts.records += records;
      this.counts.issues += reasons.length;
      this.counts.tuples += tuples;
      if (reasons.length > 0) await this.quarantine(unit, reasons);
      if (!whole) this.blocks.push(unit);
      await this.send(events);
      this.aggregate(this.aggregator, events);
      this.counts.bytes += whole ? 0 : unit.bytes.length;
      this.countsThroughBlock.push({ ...this.counts, droppedByReason: { ...this.counts.droppedByReason } });
    }
    // A whole blob is delivered all or nothing: its bytes count once, all of them.
    if (whole) this.counts.bytes = this.input.countInBytes;
    await this.sender.finish();
  }

  private async send(events: readonly FlowEvent[]): Promise<void> {
    for (let index = 0; index < events.length; index++) {
      const event = events[index]!;
      if (this.dropped(event)) continue;
      this.counts.events++;
      // Encoded only for Event Hubs; the Logs Ingestion sink maps the event itself.
      const encoded = this.eventHubsSink?.encode(event, this.eventSettings.schemaVersion);
      const full = this.sender.add(event, encoded, partitionKeyOf(this.strategy, event));
      // A big block goes on in the next chunk: what is held unacknowledged stays bounded. Its
      // events span batches anyway, and only wholly acknowledged blocks count as delivered.
      if (full && index < events.length - 1) await this.sender.flush();
    }
    this.sender.endBlock();
    if (this.sender.isFull()) await this.sender.flush();
  }

  /** Notes the event's time; true when a cost filter drops it (counted by its reason, never sent). */
  private dropped(event: FlowEvent): boolean {
    // Canonical ISO times (core/flatten) order as text.
    const { counts } = this;
    if (counts.lastTupleTimeIso === null || event.time > counts.lastTupleTimeIso) counts.lastTupleTimeIso = event.time;
    const reason = this.dropReasonOf?.(event) ?? null;
    if (reason === null) return false;
    counts.dropped++;
    counts.droppedByReason[reason] = (counts.droppedByReason[reason] ?? 0) + 1;
    return true;
  }

  private async quarantine(unit: RecordUnit, reasons: string[]): Promise<void> {
    logger.error(`Record ${unit.recordIndex} (block ${unit.blockIndex}) of ${this.blobPath}: ${reasons.join("; ")}`);
    // Quarantined before the checkpoint can pass it: a failed write fails the activity.
    await this.source.quarantine({
      container: this.input.container,
      path: this.input.path,
      recordIndex: unit.recordIndex,
      blockIndex: unit.blockIndex,
      reason: reasons.join("; "),
      rawText: unit.bytes.toString("utf8").replace(/^[\s,\uFEFF]+/, ""),
    });
    this.counts.quarantined++;
  }

  /** After a failure: the result for the leading blocks whose events were all acknowledged, or the error. */
  async partialResult(error: unknown): Promise<ProcessRangeResult> {
    // The chunk in flight may still be acknowledged: its blocks count as delivered then.
    await this.sender.settle();
    const acknowledged = this.sender.acknowledgedEvents;
    const completedBlockCount = this.countsThroughBlock.filter((through) => through.events <= acknowledged).length;
    // A whole blob has one checkpoint step: nothing of it is committed unless all of it is.
    if (completedBlockCount === 0 || this.input.wholeBlobEtag !== undefined) throw error;
    const completed = this.countsThroughBlock[completedBlockCount - 1]!;
    const blockCount = this.input.blockSizesInBytes.length;
    logFailure(
      `processRange ${this.where}: stopped after the first ${completedBlockCount} of ${blockCount} blocks, ` +
        `whose ${completed.events} events are acknowledged and to be committed`,
      error,
    );
    const aggregates = this.aggregatesOfFirstBlocks(completedBlockCount);
    return { kind: "partial", completedBlockCount, ...completed, aggregates, failure: failureOf(error) };
  }

  /**
   * The aggregates of the range's first `blockCount` blocks alone: their bytes flattened again (flattening and the
   * filters are deterministic), as the aggregator took them while they were sent.
   */
  private aggregatesOfFirstBlocks(blockCount: number): MinuteAggregate[] {
    const sourceId = sourceIdOf(this.blobPath, this.input.firstBlockIndex, blockCount);
    const aggregator = new FlowEventAggregator(aggregateOptionsFor(this.rules, sourceId));
    for (const block of this.blocks.slice(0, blockCount))
      this.aggregate(aggregator, flattenUnit(block, this.blobPath, this.directory).events);
    return aggregator.result();
  }

  /** Aggregates the events the filters keep (the ones sent); a pass of its own, apart from the encoding loop. */
  private aggregate(aggregator: FlowEventAggregator, events: readonly FlowEvent[]): void {
    const dropReasonOf = this.dropReasonOf;
    for (let index = 0; index < events.length; index++) {
      const event = events[index]!;
      if (dropReasonOf === null || dropReasonOf(event) === null) aggregator.add(event);
    }
  }
}

export function makeProcessRange(deps: ProcessRangeDeps): ActivityHandler {
  return async (rawInput: unknown): Promise<ProcessRangeResult> => {
    const input = parseInput(rawInput, deps.containers?.());
    const source = deps.blobSource();
    const delivery = new RangeDelivery(input, deps, source);
    const prefetched = delivery.prefetch();
    const stream = await openRangeOf(source, input);
    if ("stale" in stream) return { kind: "stale", reason: stream.stale };
    await prefetched;
    try {
      await delivery.deliver(stream);
    } catch (error) {
      return delivery.partialResult(error);
    }
    const { counts } = delivery;
    logger.info(
      `Delivered ${delivery.where}: ${counts.events} events from ${counts.records} records, ` +
        `${counts.quarantined} quarantined`,
    );
    return { kind: "processed", ...counts, aggregates: delivery.aggregator.result() };
  };
}
