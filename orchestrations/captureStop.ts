/**
 * The capture stop flag: one entity per capture run (keyed by the run's report id). The alerts
 * webhook sets it when the alert that started the capture resolves; the packetCapture
 * orchestration reads it at each poll and, once set, stops the capture and reports why.
 */
import type { EntityContext, EntityHandler } from "durable-functions";
import { CaptureStopOperations, type CaptureStopRequest } from "../src/contracts/captureContracts";
import { ValidationError } from "../src/errors";

export const captureStopEntity: EntityHandler<CaptureStopRequest | null> = (
  context: EntityContext<CaptureStopRequest | null>,
) => {
  const current = context.df.getState(() => null) ?? null;
  const where = `captureStop operation "${context.df.operationName ?? ""}"`;
  switch (context.df.operationName) {
    case CaptureStopOperations.request: {
      const input = context.df.getInput<CaptureStopRequest>();
      if (typeof input?.alertId !== "string" || typeof input.requestedAt !== "string")
        throw new ValidationError(`${where}: input must be { reason, alertId, requestedAt }`);
      // The first request stands: a redelivered resolution changes nothing.
      context.df.setState(current ?? input);
      return;
    }
    case CaptureStopOperations.get:
      context.df.return(current);
      return;
    default:
      throw new ValidationError(
        `${where}: unknown operation (expected ${Object.values(CaptureStopOperations).join(", ")})`,
      );
  }
};
