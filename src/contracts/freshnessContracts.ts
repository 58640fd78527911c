/**
 * The freshness feature's contracts: the freshness entity (one per flow log), signalled by
 * ingestBlob after each committed range and asked for a report by the reportFreshness
 * orchestration, which the reconcile timer starts for the flow logs it saw.
 */
import { hashBlobPath } from "../core/eventId";
import type { FreshnessOutput, FreshnessRecordInput, FreshnessReportInput, FreshnessState } from "../core/freshness";
import { entityOperation, orchestrationContract } from "./contract";
import { EntityNames, OrchestrationNames } from "./names";

export const FreshnessOperations = { record: "record", report: "report", get: "get" } as const;

/** The freshness entity key of a flow log (flowLogKeyOf): a stable hash (entity keys cannot hold '/'). */
export function freshnessEntityKey(flowLog: string): string {
  return hashBlobPath(flowLog);
}

export interface FreshnessReportResult {
  events: FreshnessOutput[];
}

export const FreshnessEntity = {
  record: entityOperation<FreshnessRecordInput, null>(EntityNames.freshness, FreshnessOperations.record),
  report: entityOperation<FreshnessReportInput, FreshnessReportResult>(
    EntityNames.freshness,
    FreshnessOperations.report,
  ),
  get: entityOperation<undefined, FreshnessState | null>(EntityNames.freshness, FreshnessOperations.get),
} as const;

export interface ReportFreshnessInput {
  /** flowLogKeyOf of each flow log to report on. */
  flowLogs: string[];
  silentAfterSeconds: number;
}

export interface ReportFreshnessResult {
  reported: number;
  silent: number;
  eventsSent: number;
}

export const reportFreshnessOrchestration = orchestrationContract<ReportFreshnessInput, ReportFreshnessResult>(
  OrchestrationNames.reportFreshness,
);
