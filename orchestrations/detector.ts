/**
 * The detector entity: one per target (NIC), holding the sliding anomaly windows of
 * core/anomaly (applyAggregates). Deterministic and without I/O: alerts are handed to
 * `dispatchAlerts`, which starts the orchestrations that publish them and request captures.
 */
import type { EntityContext } from "durable-functions";
import type { AnomalyAlert } from "../src/core/alertSchema";
import type { MinuteAggregate, TargetRef } from "../src/core/anomaly/aggregate";
import {
  applyAggregates,
  emptyDetectorState,
  type ApplyAggregatesResult,
  type DetectorState,
} from "../src/core/anomaly/detector";
import type { AnomalyRule } from "../src/core/anomaly/rules";
// A generic 64-bit string hash despite its name: entity-safe keys for resource ids.
import { hashBlobPath as hash64 } from "../src/core/eventId";
import { ValidationError } from "../src/errors";

/** Backfill aggregates go to `${key}${HISTORIC_DETECTOR_SUFFIX}`: their own windows, never captures. */
export const HISTORIC_DETECTOR_SUFFIX = "-historic";
/** Alerts kept while their dispatch fails (oldest dropped beyond this). */
export const MAX_PENDING_ALERTS = 50;

/** Operations of the detector entity. */
export const DetectorOperations = { ingest: "ingest", get: "get", reset: "reset" } as const;

/** Input of the "ingest" operation (what the ingestion orchestration signals). */
export interface DetectorIngestInput {
  aggregates: MinuteAggregate[];
  historic: boolean;
  /** context.df.currentUtcDateTime of the signalling orchestration, ISO-8601. */
  nowIso: string;
}

export interface DetectorEntityState {
  detector: DetectorState;
  /** Alerts detected but not yet handed off (their dispatch failed): retried on the next operation. */
  pending: AnomalyAlert[];
}

/** Result of "ingest" (visible to callers that call rather than signal). */
export interface DetectorIngestResult {
  alerts: number;
  skipped: ApplyAggregatesResult["skipped"];
  /** Alerts still waiting for a successful dispatch. */
  pending: number;
}

export interface AlertDispatch {
  /** The detector entity key. */
  detectorKey: string;
  alerts: AnomalyAlert[];
}

export interface DetectorEntityDeps {
  /** The validated anomaly rules (read once from settings). */
  rules: () => readonly AnomalyRule[];
  /**
   * Starts the orchestration that publishes the alerts (and, for alerts asking for one, the
   * capture orchestration). Must be idempotent for the same alerts: a failed dispatch is retried.
   */
  dispatchAlerts: (context: EntityContext<DetectorEntityState>, dispatch: AlertDispatch) => Promise<void>;
}

/** The entity key of a target's live detector: the MAC, else a hash of the resource id (keys must not contain '/'). */
export function detectorEntityKey(target: TargetRef): string {
  return target.mac ?? `res-${hash64(target.key.toLowerCase())}`;
}

/** The entity key of a target's backfill detector. */
export function historicDetectorEntityKey(target: TargetRef): string {
  return `${detectorEntityKey(target)}${HISTORIC_DETECTOR_SUFFIX}`;
}

export function isHistoricDetectorKey(key: string): boolean {
  return key.endsWith(HISTORIC_DETECTOR_SUFFIX);
}

function emptyEntityState(): DetectorEntityState {
  return { detector: emptyDetectorState(), pending: [] };
}

function parseIngestInput(input: unknown, where: string): DetectorIngestInput {
  const value = input as Partial<DetectorIngestInput> | undefined;
  if (typeof value !== "object" || value === null)
    throw new ValidationError(`${where}: input must be { aggregates, historic, nowIso }`);
  if (!Array.isArray(value.aggregates))
    throw new ValidationError(`${where}: input.aggregates must be an array of MinuteAggregate`);
  if (typeof value.historic !== "boolean") throw new ValidationError(`${where}: input.historic must be true or false`);
  if (typeof value.nowIso !== "string" || Number.isNaN(Date.parse(value.nowIso))) {
    throw new ValidationError(`${where}: input.nowIso must be an ISO-8601 time (got ${JSON.stringify(value.nowIso)})`);
  }
  return { aggregates: value.aggregates, historic: value.historic, nowIso: value.nowIso };
}

/**
 * Builds the entity handler (register with `extraInputs: [df.input.durableClient()]` when dispatch uses the client).
 */
export function makeDetectorEntity(
  deps: DetectorEntityDeps,
): (context: EntityContext<DetectorEntityState>) => Promise<void> {
  return async (context) => {
    const key = context.df.entityKey;
    const where = `detector ${key} operation "${context.df.operationName ?? ""}"`;
    const state = context.df.getState(emptyEntityState) ?? emptyEntityState();
    switch (context.df.operationName) {
      case DetectorOperations.ingest: {
        const input = parseIngestInput(context.df.getInput<DetectorIngestInput>(), where);
        // The key decides, whatever the input says: a historic detector never starts a capture.
        const historic = input.historic || isHistoricDetectorKey(key);
        const result = applyAggregates(state.detector, input.aggregates, deps.rules(), {
          nowIso: input.nowIso,
          historic,
        });
        const pending = [...state.pending, ...result.alerts].slice(-MAX_PENDING_ALERTS);
        const dispatched =
          pending.length > 0 && (await tryDispatch(deps, context, { detectorKey: key, alerts: pending }));
        const next: DetectorEntityState = { detector: result.state, pending: dispatched ? [] : pending };
        context.df.setState(next);
        context.df.return<DetectorIngestResult>({
          alerts: result.alerts.length,
          skipped: result.skipped,
          pending: next.pending.length,
        });
        return;
      }
      case DetectorOperations.get:
        context.df.return(state);
        return;
      case DetectorOperations.reset:
        context.df.setState(emptyEntityState());
        return;
      default:
        throw new ValidationError(
          `${where}: unknown operation (expected ${Object.values(DetectorOperations).join(", ")})`,
        );
    }
  };
}

async function tryDispatch(
  deps: DetectorEntityDeps,
  context: EntityContext<DetectorEntityState>,
  dispatch: AlertDispatch,
): Promise<boolean> {
  try {
    await deps.dispatchAlerts(context, dispatch);
    return true;
  } catch {
    // The alerts stay pending in the state and go out with the next operation; the dispatcher logs the cause.
    return false;
  }
}
