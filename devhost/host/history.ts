/**
 * Orchestration history events in the shape the Durable Task extension hands to
 * `durable-functions` (PascalCase, numeric EventType). Results and inputs are JSON strings.
 * Pinned to durable-functions 3.5.0: read lib/src/history and orchestrations/TaskOrchestrationExecutor.
 */

export const HistoryEventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
} as const;

/** The wire form of a failure (durable-functions FailureDetailsPayload). */
export interface FailureDetailsPayload {
  ErrorType: string;
  ErrorMessage: string;
  StackTrace?: string;
  IsNonRetriable?: boolean;
  Properties?: Record<string, unknown>;
  InnerFailure?: FailureDetailsPayload;
}

/** One history event; `Timestamp` is an ISO string in the store (the library parses it to a Date). */
export interface HistoryEvent {
  EventType: number;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
  Name?: string;
  Input?: string;
  Result?: string;
  InstanceId?: string;
  TaskScheduledId?: number;
  TimerId?: number;
  FireAt?: string;
  Reason?: string;
  Details?: string;
  FailureDetails?: FailureDetailsPayload;
}

function event(type: number, timestamp: Date, fields: Partial<HistoryEvent> = {}): HistoryEvent {
  return { EventType: type, EventId: -1, IsPlayed: false, Timestamp: timestamp.toISOString(), ...fields };
}

export const historyEvents = {
  orchestratorStarted: (at: Date) => event(HistoryEventType.OrchestratorStarted, at),
  orchestratorCompleted: (at: Date) => event(HistoryEventType.OrchestratorCompleted, at),
  executionStarted: (at: Date, name: string, input: string | undefined) =>
    event(HistoryEventType.ExecutionStarted, at, { Name: name, Input: input }),
  taskScheduled: (at: Date, id: number, name: string, input: string | undefined) =>
    event(HistoryEventType.TaskScheduled, at, { EventId: id, Name: name, Input: input }),
  taskCompleted: (at: Date, id: number, result: string) =>
    event(HistoryEventType.TaskCompleted, at, { TaskScheduledId: id, Result: result }),
  subOrchestrationCreated: (at: Date, id: number, name: string, instanceId: string, input: string | undefined) =>
    event(HistoryEventType.SubOrchestrationInstanceCreated, at, {
      EventId: id,
      Name: name,
      InstanceId: instanceId,
      Input: input,
    }),
  subOrchestrationCompleted: (at: Date, id: number, result: string) =>
    event(HistoryEventType.SubOrchestrationInstanceCompleted, at, { TaskScheduledId: id, Result: result }),
  /** A failed activity as the extension records it: Reason, Details (a serialized exception), no FailureDetails. */
  taskFailed: (at: Date, id: number, reason: string, details: string) =>
    event(HistoryEventType.TaskFailed, at, { TaskScheduledId: id, Reason: reason, Details: details }),
  /** As DurableTask.Core sends it with SerializeExceptions error propagation: Reason, Details, no FailureDetails. */
  subOrchestrationFailed: (at: Date, id: number, reason: string, details: string) =>
    event(HistoryEventType.SubOrchestrationInstanceFailed, at, {
      TaskScheduledId: id,
      Reason: reason,
      Details: details,
    }),
  timerCreated: (at: Date, id: number, fireAt: Date) =>
    event(HistoryEventType.TimerCreated, at, { EventId: id, FireAt: fireAt.toISOString() }),
  timerFired: (at: Date, id: number, fireAt: string) =>
    event(HistoryEventType.TimerFired, at, { TimerId: id, FireAt: fireAt }),
  eventSent: (at: Date, id: number, targetInstanceId: string, name: string, input: string) =>
    event(HistoryEventType.EventSent, at, { EventId: id, InstanceId: targetInstanceId, Name: name, Input: input }),
  eventRaised: (at: Date, name: string, input: string | undefined) =>
    event(HistoryEventType.EventRaised, at, { Name: name, Input: input }),
};

/** Scheduled ids whose completion is in the history. */
export function completedIds(history: readonly HistoryEvent[]): Set<number> {
  const ids = new Set<number>();
  for (const e of history) {
    if (e.TaskScheduledId !== undefined) ids.add(e.TaskScheduledId);
    if (e.TimerId !== undefined) ids.add(e.TimerId);
  }
  return ids;
}

/** Serializes a value as the extension does for results: JSON, with `undefined` as `null`. */
export function toJson(value: unknown): string {
  return JSON.stringify(value) ?? "null";
}

/** Converts a thrown value to the wire failure shape, keeping the real error type and message. */
export function toFailureDetails(error: unknown): FailureDetailsPayload {
  const err = error instanceof Error ? error : new Error(typeof error === "string" ? error : toJson(error));
  // With an exception-properties provider, durable-functions puts a JSON payload in the message.
  const structured = parseStructuredFailure(err.message);
  if (structured) return structured;
  return { ErrorType: err.name, ErrorMessage: err.message, StackTrace: err.stack, IsNonRetriable: false };
}

function parseStructuredFailure(message: string): FailureDetailsPayload | undefined {
  if (!message.startsWith("{")) return undefined;
  try {
    const parsed = JSON.parse(message) as Record<string, unknown>;
    if (typeof parsed.errorType !== "string" || typeof parsed.errorMessage !== "string") return undefined;
    return {
      ErrorType: parsed.errorType,
      ErrorMessage: parsed.errorMessage,
      StackTrace: typeof parsed.stackTrace === "string" ? parsed.stackTrace : undefined,
      IsNonRetriable: parsed.isNonRetriable === true,
      Properties: parsed.properties as Record<string, unknown> | undefined,
    };
  } catch {
    return undefined;
  }
}
