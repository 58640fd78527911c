/**
 * Freshness of each flow log: how late its data is, and whether it went silent. One state per
 * flow log (every NIC's blobs of one flow log: the blob path before `/y=`). Live ingestion
 * records each committed range (`recordRange`); the reconcile timer asks for a report
 * (`reportFreshness`) every few minutes: a `flowtap.freshness` event (last tuple time, last
 * commit time, lag, what the interval delivered and dropped), and a `flowtap.flowLogSilent` alert
 * once when a flow log that was writing has committed nothing for longer than the configured
 * time (a disabled flow log or a rotated storage key stops the data without any error).
 * Pure: the caller passes the time.
 */
import { addDropCounts, type DropCounts } from "./eventFilter";
import { hashBlobPath } from "./eventId";

export const FRESHNESS_EVENT_TYPE = "flowtap.freshness";
export const FLOW_LOG_SILENT_EVENT_TYPE = "flowtap.flowLogSilent";
export const FRESHNESS_SCHEMA_VERSION = 1;

/** What one flow log delivered over an interval. */
export interface FreshnessCounts {
  tuples: number;
  events: number;
  /** Blob bytes read. */
  bytes: number;
  dropped: number;
  droppedByReason: DropCounts;
}

export interface FreshnessState {
  /** `{container}/{blob path before /y=}`, upper-case. */
  flowLog: string;
  /** Newest tuple time delivered (ISO-8601). */
  lastTupleTimeIso: string | null;
  /** When flowtap last committed new data of it. */
  lastCommitIso: string | null;
  /** Since the last report. */
  interval: FreshnessCounts;
  lastReportIso: string | null;
  /** The last commit the silence alert was raised for (raised once per silence). */
  silenceAlertedForCommitIso: string | null;
}

/** One committed range of one of the flow log's blobs. */
export interface FreshnessRecordInput extends FreshnessCounts {
  flowLog: string;
  /** Newest tuple time of the range (null: the range had no tuple). */
  lastTupleTimeIso: string | null;
  commitIso: string;
}

export interface FreshnessReportInput {
  nowIso: string;
  /** A flow log that wrote and has committed nothing for longer than this is silent. */
  silentAfterSeconds: number;
}

export interface FreshnessEvent {
  type: typeof FRESHNESS_EVENT_TYPE;
  schemaVersion: typeof FRESHNESS_SCHEMA_VERSION;
  id: string;
  time: string;
  flowLog: string;
  lastTupleTime: string | null;
  lastCommitTime: string | null;
  /** Seconds from the newest tuple delivered to `time`: how late the data is downstream. */
  lagSeconds: number | null;
  /** `from` is the previous report (null for the first). */
  interval: FreshnessCounts & { from: string | null; to: string };
}

export interface FlowLogSilentAlert {
  type: typeof FLOW_LOG_SILENT_EVENT_TYPE;
  schemaVersion: typeof FRESHNESS_SCHEMA_VERSION;
  id: string;
  time: string;
  flowLog: string;
  lastTupleTime: string | null;
  lastCommitTime: string;
  silentForSeconds: number;
  silentAfterSeconds: number;
}

export type FreshnessOutput = FreshnessEvent | FlowLogSilentAlert;

export interface FreshnessReport {
  state: FreshnessState;
  /** The periodic event, then the alert when there is one. */
  events: FreshnessOutput[];
}

/** The flow log a blob belongs to: its container and path before `/y=`, upper-case. */
export function flowLogKeyOf(container: string, path: string): string {
  return `${container}/${path.split("/y=")[0] ?? path}`.toUpperCase();
}

const emptyCounts = (): FreshnessCounts => ({ tuples: 0, events: 0, bytes: 0, dropped: 0, droppedByReason: {} });

export function emptyFreshnessState(flowLog: string): FreshnessState {
  return {
    flowLog,
    lastTupleTimeIso: null,
    lastCommitIso: null,
    interval: emptyCounts(),
    lastReportIso: null,
    silenceAlertedForCommitIso: null,
  };
}

const later = (a: string | null, b: string | null): string | null =>
  a === null ? b : b === null ? a : Date.parse(b) > Date.parse(a) ? b : a;

/** Adds a committed range to the interval; the newest tuple and commit times win. */
export function recordRange(state: FreshnessState, input: FreshnessRecordInput): FreshnessState {
  const droppedByReason = { ...state.interval.droppedByReason };
  addDropCounts(droppedByReason, input.droppedByReason);
  return {
    ...state,
    lastTupleTimeIso: later(state.lastTupleTimeIso, input.lastTupleTimeIso),
    lastCommitIso: later(state.lastCommitIso, input.commitIso),
    interval: {
      tuples: state.interval.tuples + input.tuples,
      events: state.interval.events + input.events,
      bytes: state.interval.bytes + input.bytes,
      dropped: state.interval.dropped + input.dropped,
      droppedByReason,
    },
  };
}

const secondsBetween = (fromIso: string, toIso: string): number =>
  Math.max(0, Math.round((Date.parse(toIso) - Date.parse(fromIso)) / 1000));

/**
 * The report at `nowIso`: nothing for a flow log never seen writing; else its freshness event,
 * and the silence alert the first time it has been silent longer than allowed. The interval starts
 * again. Event ids are deterministic (a hash of the flow log, and the time), so a repeated report is
 * de-duplicable.
 */
export function reportFreshness(state: FreshnessState, input: FreshnessReportInput): FreshnessReport {
  if (state.lastCommitIso === null) return { state, events: [] };
  const { nowIso } = input;
  const events: FreshnessOutput[] = [
    {
      type: FRESHNESS_EVENT_TYPE,
      schemaVersion: FRESHNESS_SCHEMA_VERSION,
      id: `freshness-${hashBlobPath(state.flowLog)}-${nowIso}`,
      time: nowIso,
      flowLog: state.flowLog,
      lastTupleTime: state.lastTupleTimeIso,
      lastCommitTime: state.lastCommitIso,
      lagSeconds: state.lastTupleTimeIso === null ? null : secondsBetween(state.lastTupleTimeIso, nowIso),
      interval: { ...state.interval, from: state.lastReportIso, to: nowIso },
    },
  ];
  const silentForSeconds = secondsBetween(state.lastCommitIso, nowIso);
  const silent = silentForSeconds > input.silentAfterSeconds;
  const alerted = state.silenceAlertedForCommitIso === state.lastCommitIso;
  if (silent && !alerted) {
    events.push({
      type: FLOW_LOG_SILENT_EVENT_TYPE,
      schemaVersion: FRESHNESS_SCHEMA_VERSION,
      id: `silent-${hashBlobPath(state.flowLog)}-${state.lastCommitIso}`,
      time: nowIso,
      flowLog: state.flowLog,
      lastTupleTime: state.lastTupleTimeIso,
      lastCommitTime: state.lastCommitIso,
      silentForSeconds,
      silentAfterSeconds: input.silentAfterSeconds,
    });
  }
  return {
    state: {
      ...state,
      interval: emptyCounts(),
      lastReportIso: nowIso,
      silenceAlertedForCommitIso: silent ? state.lastCommitIso : state.silenceAlertedForCommitIso,
    },
    events,
  };
}
