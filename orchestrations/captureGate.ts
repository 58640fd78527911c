/**
 * The capture gate: a singleton entity holding the capture policy state across all capture
 * orchestrations (running captures for the concurrency cap, last start per VM for the
 * cooldown). Pure: capturePolicy.decideCapture decides, the entity only keeps the state.
 */
import type { EntityContext, EntityHandler } from "durable-functions";
import {
  decideCapture,
  emptyCapturePolicyState,
  releaseCapture,
  type CapturePolicyState,
} from "../src/core/capturePolicy";
import {
  CaptureGateOperations,
  type AcquireCaptureInput,
  type AcquireCaptureResult,
  type ReleaseCaptureInput,
} from "../src/contracts/captureContracts";
import { ValidationError } from "../src/errors";

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
