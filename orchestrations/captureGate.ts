/**
 * The capture gate: a singleton entity holding the capture policy state across all capture
 * orchestrations (running captures for the concurrency cap, last start per VM for the
 * cooldown). Pure: capturePolicy.decideCapture decides, the entity only keeps the state.
 */
import * as df from "durable-functions";
import type { EntityContext, EntityHandler } from "durable-functions";
import {
  decideCapture,
  emptyCapturePolicyState,
  releaseCapture,
  type CapturePlan,
  type CapturePolicyConfig,
  type CapturePolicyState,
  type CaptureRequest,
  type RefusalReason,
} from "../src/core/capturePolicy";
import { ValidationError } from "../src/errors";
import { EntityNames } from "../src/names";

/** The one gate of the app. */
export const CAPTURE_GATE_KEY = "global";
export const captureGateId = (): df.EntityId => new df.EntityId(EntityNames.captureGate, CAPTURE_GATE_KEY);

export const CaptureGateOperations = { acquire: "acquire", release: "release", get: "get", reset: "reset" } as const;

export interface AcquireCaptureInput {
  request: CaptureRequest;
  policy: CapturePolicyConfig;
  /** The orchestration's currentUtcDateTime, ISO-8601. */
  nowIso: string;
}

export type AcquireCaptureResult =
  { decision: "allowed"; plan: CapturePlan } | { decision: "refused"; reason: RefusalReason; message: string };

export interface ReleaseCaptureInput {
  name: string;
}

export const captureGateEntity: EntityHandler<CapturePolicyState> = (context: EntityContext<CapturePolicyState>) => {
  const state = context.df.getState(emptyCapturePolicyState) ?? emptyCapturePolicyState();
  const where = `captureGate operation "${context.df.operationName ?? ""}"`;
  switch (context.df.operationName) {
    case CaptureGateOperations.acquire: {
      const input = context.df.getInput<AcquireCaptureInput>();
      if (!input?.request || !input.policy || typeof input.nowIso !== "string")
        throw new ValidationError(`${where}: input must be { request, policy, nowIso }`);
      const decision = decideCapture(input.request, state, input.policy, input.nowIso);
      context.df.setState(decision.state);
      context.df.return<AcquireCaptureResult>(
        decision.decision === "allowed"
          ? { decision: "allowed", plan: decision.plan }
          : { decision: "refused", reason: decision.reason, message: decision.message },
      );
      return;
    }
    case CaptureGateOperations.release: {
      const name = context.df.getInput<ReleaseCaptureInput>()?.name;
      if (typeof name !== "string") throw new ValidationError(`${where}: input must be { name }`);
      context.df.setState(releaseCapture(state, name));
      return;
    }
    case CaptureGateOperations.get:
      context.df.return(state);
      return;
    case CaptureGateOperations.reset:
      context.df.setState(emptyCapturePolicyState());
      return;
    default:
      throw new ValidationError(
        `${where}: unknown operation (expected ${Object.values(CaptureGateOperations).join(", ")})`,
      );
  }
};
