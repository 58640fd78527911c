/**
 * The detector entity: one per target (NIC), holding the sliding anomaly windows of
 * core/anomaly (applyAggregates). Deterministic and without I/O: alerts are handed to
 * `dispatchAlerts`, which starts the orchestrations that publish them and request captures.
 */
import type { EntityContext } from "durable-functions";
import { applyAggregates, emptyDetectorState } from "../src/core/anomaly/detector";
import type { AnomalyRule } from "../src/core/anomaly/rules";
import {
  DetectorOperations,
  type AlertDispatch,
  type DetectorEntityState,
  type DetectorIngestInput,
  type DetectorIngestResult,
} from "../src/contracts/captureContracts";
import { ValidationError } from "../src/errors";
import { isHistoricDetectorKey } from "../src/contracts/captureContracts";

/** Alerts kept while their dispatch fails (oldest dropped beyond this). */
export const MAX_PENDING_ALERTS = 50;

export interface DetectorEntityDeps {
  /** The validated anomaly rules (read once from settings). */
  rules: () => readonly AnomalyRule[];
  /**
   * Starts the orchestration that publishes the alerts (and, for alerts asking for one, the
   * capture orchestration). Must be idempotent for the same alerts: a failed dispatch is retried.
   */
  dispatchAlerts: (context: EntityContext<DetectorEntityState>, dispatch: AlertDispatch) => Promise<void>;
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
