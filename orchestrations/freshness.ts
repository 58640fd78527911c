/**
 * Freshness: the freshness entity (one per flow log) keeps what core/freshness records and
 * reports; the reportFreshness orchestration, started by the reconcile timer with the flow logs
 * its walk saw, asks each for its report at the orchestration's time (the host's clock, so
 * deterministic on replay) and publishes the events on the alerts hub.
 */
import type { EntityContext, EntityHandler, OrchestrationContext, OrchestrationHandler, Task } from "durable-functions";
import {
  emptyFreshnessState,
  FLOW_LOG_SILENT_EVENT_TYPE,
  FRESHNESS_EVENT_TYPE,
  recordRange,
  reportFreshness,
  type FreshnessState,
} from "../src/core/freshness";
import { ValidationError } from "../src/errors";
import { publishEventsActivity, type PublishedEvent } from "../src/contracts/captureContracts";
import {
  FreshnessEntity,
  FreshnessOperations,
  freshnessEntityKey,
  type FreshnessReportResult,
  type ReportFreshnessInput,
  type ReportFreshnessResult,
} from "../src/contracts/freshnessContracts";
import { callActivity, entityTask, resultOf } from "./calls";
import { PUBLISH_RETRY } from "./publishAlerts";

/** Events per publishEvents call (each ≈ 0.5 KB). */
const EVENTS_PER_PUBLISH = 100;

export const freshnessEntity: EntityHandler<FreshnessState> = (context: EntityContext<FreshnessState>) => {
  const where = `freshness ${context.df.entityKey} operation "${context.df.operationName ?? ""}"`;
  const state = context.df.getState() ?? null;
  switch (context.df.operationName) {
    case FreshnessOperations.record: {
      const input = context.df.getInput<Parameters<typeof recordRange>[1]>();
      if (typeof input?.flowLog !== "string" || typeof input.commitIso !== "string")
        throw new ValidationError(`${where}: input must be { flowLog, commitIso, lastTupleTimeIso, tuples, ... }`);
      context.df.setState(recordRange(state ?? emptyFreshnessState(input.flowLog), input));
      return;
    }
    case FreshnessOperations.report: {
      const input = context.df.getInput<Parameters<typeof reportFreshness>[1]>();
      if (typeof input?.nowIso !== "string" || typeof input.silentAfterSeconds !== "number")
        throw new ValidationError(`${where}: input must be { nowIso, silentAfterSeconds }`);
      if (!state) {
        context.df.return<FreshnessReportResult>({ events: [] });
        return;
      }
      const report = reportFreshness(state, input);
      context.df.setState(report.state);
      context.df.return<FreshnessReportResult>({ events: report.events });
      return;
    }
    case FreshnessOperations.get:
      context.df.return(state);
      return;
    default:
      throw new ValidationError(
        `${where}: unknown operation (expected ${Object.values(FreshnessOperations).join(", ")})`,
      );
  }
};

export const reportFreshnessOrchestrator: OrchestrationHandler = function* (
  context: OrchestrationContext,
): Generator<Task, ReportFreshnessResult, unknown> {
  const input = context.df.getInput<ReportFreshnessInput>();
  const nowIso = context.df.currentUtcDateTime.toISOString();
  const reportInput = { nowIso, silentAfterSeconds: input.silentAfterSeconds };
  const tasks = input.flowLogs.map((flowLog) =>
    entityTask(context, FreshnessEntity.report, freshnessEntityKey(flowLog), reportInput),
  );
  if (tasks.length > 0) yield context.df.Task.all(tasks.map((typed) => typed.task));
  const outputs = tasks.flatMap((typed) => resultOf(typed).events);
  const events: PublishedEvent[] = outputs.map((event) => ({ id: event.id, body: event, partitionKey: event.flowLog }));
  let eventsSent = 0;
  // In slices: an activity's input stays small however many flow logs there are.
  for (let start = 0; start < events.length; start += EVENTS_PER_PUBLISH) {
    const slice = { events: events.slice(start, start + EVENTS_PER_PUBLISH) };
    eventsSent += (yield* callActivity(context, publishEventsActivity, slice, PUBLISH_RETRY)).eventsSent;
  }
  return {
    reported: outputs.filter((event) => event.type === FRESHNESS_EVENT_TYPE).length,
    silent: outputs.filter((event) => event.type === FLOW_LOG_SILENT_EVENT_TYPE).length,
    eventsSent,
  };
};
