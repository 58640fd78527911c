import { ValidationError } from "../../src/errors";
import { ArmHttpError } from "./armHttpError";
import { answerOf, type ArmResponse } from "./http";

/**
 * The fault switch of the local ARM endpoint: the next matching requests fail as Azure fails. A fault either
 * answers the request itself with an ARM error (phase "answer"), accepts it and ends its asynchronous operation
 * `Failed` with the error (phase "operation", ARM's async-api-reference.md, Azure/azure-resource-manager-rpc
 * v1.0), or drops the connection without an answer (phase "reset", a network failure or timeout).
 */

/** Error codes. Those marked unconfirmed were not found in any public source (see devhost/arm/README.md). */
export const ArmErrorCodes = {
  throttled: "TooManyRequests",
  /** Confirmed: 409 from Microsoft.Network for concurrent operations (public Terraform/AzAPI error logs). */
  anotherOperationInProgress: "AnotherOperationInProgress",
  /** Confirmed: `(InternalServerError) An error occurred.` from packet-capture stop, Azure/WALinuxAgent#2765. */
  internalServerError: "InternalServerError",
  /** Unconfirmed code; the need for the agent is documented (packet capture overview). */
  agentNotInstalled: "PacketCaptureAgentNotInstalled",
  /** Unconfirmed code; StorageFailed is the spec's PcError value for a session that fails on storage. */
  storageFailed: "StorageFailed",
  /** Unconfirmed code; the limit (10,000 parallel sessions per region per subscription) is documented. */
  sessionLimitReached: "PacketCaptureSessionLimitReached",
  /** Unconfirmed code; that a second create of one name fails is reported in Azure/azure-cli#7748. */
  captureAlreadyExists: "PacketCaptureAlreadyExists",
} as const;

export type ArmFaultPhase = "answer" | "operation" | "reset";

/** What a fault does, without where it applies. */
export interface ArmFaultKind {
  /** Default "answer". */
  phase?: ArmFaultPhase;
  /** HTTP status of the answer (phase "answer") or of the Location poll's final answer (phase "operation"). */
  statusCode?: number;
  /** Sent as `Retry-After` (default 1 for 429, none otherwise). */
  retryAfterInSeconds?: number;
  /** ARM error code (defaults: 429 TooManyRequests, 409 AnotherOperationInProgress, else InternalServerError). */
  code?: string;
  message?: string;
}

/** Makes the next `count` requests matching `method` and `path` fail. */
export interface ArmFault extends ArmFaultKind {
  /** HTTP method to match (any when omitted). */
  method?: string;
  /** Path to match: a RegExp, or a case-insensitive substring of the request path. */
  path: RegExp | string;
  /** How many matching requests fail. */
  count: number;
}

/** The documented failure modes by name, for `ArmEndpoint.injectFailure`. */
export const ARM_FAILURE_MODES = {
  throttled: { statusCode: 429, code: ArmErrorCodes.throttled, retryAfterInSeconds: 1 },
  anotherOperationInProgress: {
    statusCode: 409,
    code: ArmErrorCodes.anotherOperationInProgress,
    message: "Another operation on this or dependent resource is in progress.",
  },
  internalServerError: { statusCode: 500, code: ArmErrorCodes.internalServerError, message: "An error occurred." },
  connectionReset: { phase: "reset" },
  operationInternalError: {
    phase: "operation",
    statusCode: 500,
    code: ArmErrorCodes.internalServerError,
    message: "An error occurred.",
  },
  agentNotInstalled: {
    statusCode: 400,
    code: ArmErrorCodes.agentNotInstalled,
    message: "Network Watcher Agent not installed on the target virtual machine.",
  },
  storageFailed: {
    phase: "operation",
    statusCode: 400,
    code: ArmErrorCodes.storageFailed,
    message: "The packet capture could not write to the storage account.",
  },
  sessionLimitReached: {
    statusCode: 400,
    code: ArmErrorCodes.sessionLimitReached,
    message: "The limit of parallel packet capture sessions in this region has been reached.",
  },
  captureAlreadyExists: {
    statusCode: 409,
    code: ArmErrorCodes.captureAlreadyExists,
    message: "A packet capture with this name already exists.",
  },
} as const satisfies Record<string, ArmFaultKind>;
export type ArmFailureMode = keyof typeof ARM_FAILURE_MODES;

/** An asynchronous operation's error: `status: Failed` with `error{code,message}`. */
export interface OperationFailure {
  statusCode: number;
  code: string;
  message: string;
}

interface PendingFault extends ArmFault {
  remaining: number;
}

export class FaultQueue {
  private readonly pending: PendingFault[] = [];

  add(faults: readonly ArmFault[]): void {
    for (const fault of faults) {
      if (!Number.isInteger(fault.count) || fault.count < 1) {
        throw new ValidationError(`injectFaults: count must be an integer >= 1, got ${fault.count}`);
      }
      const status = fault.statusCode;
      if (status !== undefined && (!Number.isInteger(status) || status < 400 || status > 599)) {
        throw new ValidationError(`injectFaults: statusCode must be an HTTP error status (400-599), got ${status}`);
      }
      this.pending.push({ ...fault, remaining: fault.count });
    }
  }

  /** The answer of a request fault matching this request, consuming one use; undefined when none. */
  answerFor(method: string, path: string): ArmResponse | undefined {
    const fault = this.take(method, path, (phase) => phase !== "operation");
    if (!fault) return undefined;
    if (fault.phase === "reset") return { statusCode: 0, reset: true };
    const retryAfter = fault.retryAfterInSeconds ?? (fault.statusCode === 429 ? 1 : undefined);
    const headers: Record<string, string> = retryAfter === undefined ? {} : { "Retry-After": String(retryAfter) };
    const { statusCode, code, message } = failureOf(fault, method, path);
    return answerOf(new ArmHttpError(statusCode, code, message, [], headers));
  }

  /** The failure an operation begun by this request must end with, consuming one use; undefined when none. */
  operationFailureFor(method: string, path: string): OperationFailure | undefined {
    const fault = this.take(method, path, (phase) => phase === "operation");
    return fault && failureOf(fault, method, path);
  }

  private take(
    method: string,
    path: string,
    phaseMatches: (phase: ArmFaultPhase) => boolean,
  ): PendingFault | undefined {
    const fault = this.pending.find(
      (candidate) =>
        candidate.remaining > 0 &&
        phaseMatches(candidate.phase ?? "answer") &&
        (candidate.method === undefined || candidate.method.toUpperCase() === method) &&
        (typeof candidate.path === "string"
          ? path.toLowerCase().includes(candidate.path.toLowerCase())
          : candidate.path.test(path)),
    );
    if (fault) fault.remaining -= 1;
    return fault;
  }
}

function failureOf(fault: ArmFault, method: string, path: string): OperationFailure {
  const statusCode = fault.statusCode ?? 500;
  const defaultCode =
    statusCode === 429
      ? ArmErrorCodes.throttled
      : statusCode === 409
        ? ArmErrorCodes.anotherOperationInProgress
        : ArmErrorCodes.internalServerError;
  const message = fault.message ?? `Injected fault ${statusCode} for ${method} ${path}.`;
  return { statusCode, code: fault.code ?? defaultCode, message };
}
