/**
 * The messages between the host process and a worker process (over the Node IPC channel, structured-clone
 * serialization): the local stand-in for the Functions host's gRPC channel to a language worker
 * (Azure/azure-functions-host src/WebJobs.Script.Grpc/Channel/GrpcWorkerChannel.cs: WorkerInitRequest, then
 * InvocationRequest/InvocationResponse, RpcLog).
 */
import type { InvocationKind } from "./invocations";

/** The first message: what the worker loads and what its durable client inputs hold. */
export interface WorkerInit {
  type: "init";
  /** The app module (package.json `main`, or a path given to the host). */
  modulePath: string;
  durableClientData: Record<string, unknown>;
  /** The host's `@azure/logger` level, so the worker logs what the host would. */
  logLevel: string | undefined;
}

export interface WorkerInvocation {
  type: "invoke";
  id: number;
  kind: InvocationKind;
  name: string;
  /** The trigger payload: the activity's JSON input, the orchestrator's binding input, the entity batch. */
  payload: unknown;
}

export type HostToWorker = WorkerInit | WorkerInvocation | { type: "stop" };

/** An error as it crosses the channel (RpcException: type, message, stack). */
export interface WorkerError {
  name: string;
  message: string;
  stack?: string;
}

export type WorkerToHost =
  | { type: "ready" }
  | { type: "initFailed"; error: WorkerError }
  | { type: "result"; id: number; value: unknown }
  | { type: "error"; id: number; error: WorkerError }
  | { type: "log"; text: string }
  | { type: "stopped" };

export function toWorkerError(error: unknown): WorkerError {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: "Error", message: String(error) };
}

/** The error an invocation rejects with on the host side: the worker's error type and message. */
export function fromWorkerError(error: WorkerError): Error {
  const rebuilt = new Error(error.message);
  rebuilt.name = error.name;
  if (error.stack !== undefined) rebuilt.stack = error.stack;
  return rebuilt;
}
