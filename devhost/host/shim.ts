/**
 * The extension's out-of-process orchestration shim, as the local host runs it after each
 * episode. durable-functions returns its cumulative action list (schema V3: one action per yield,
 * compound WhenAny/WhenAll actions holding their children's actions, including children already
 * scheduled by an earlier yield); the shim replays that list from the start, action by action,
 * on a Durable Task orchestration context whose ids come from one counter.
 *
 * Follows Azure/azure-functions-durable-extension
 * src/WebJobs.Extensions.DurableTask/Listener/OutOfProcOrchestrationShim.cs (ReplayOOProcOrchestration,
 * ProcessAsyncActionsV2: each action is invoked, then awaited; InvokeAPIFromAction: WhenAll/WhenAny invoke
 * every child again) and Azure/durabletask src/DurableTask.Core/TaskOrchestrationContext.cs (every
 * ScheduleTask, CreateSubOrchestrationInstance, CreateTimer and SendEvent takes `idCounter++`; a completion for an
 * id nobody waits on is dropped) and RetryInterceptor.cs (retry timers, including the immediate "dummy" timer
 * after the last attempt). A re-yielded task is therefore scheduled again under a new id: the trap of
 * azure-functions-durable-js issue #574, which this replay makes visible on the local host.
 */
import { randomUUID } from "node:crypto";
import { HistoryEventType, type HistoryEvent } from "./history";
import { ShimTask, settledTask } from "./shimTask";

const DAY_MS = 24 * 60 * 60 * 1000;
/** AzureStorageDurabilityProvider: MaximumDelayTime and LongRunningTimerIntervalLength (passed to the SDK too). */
const MAXIMUM_DELAY_MS = 6 * DAY_MS;
const LONG_TIMER_INTERVAL_MS = 3 * DAY_MS;

/** OutOfProcOrchestrationShim.AsyncActionType (durable-functions lib/src/actions/ActionType.js). */
const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  ScheduledSignalEntity: 10,
  WhenAny: 11,
  WhenAll: 12,
} as const;

/** The fields of an action the shim reads (OutOfProcOrchestrationShim.AsyncAction). */
export interface ShimAction {
  actionType: number;
  functionName?: string;
  input?: unknown;
  instanceId?: string;
  operation?: string;
  fireAt?: Date | string;
  isCanceled?: boolean;
  retryOptions?: ShimRetryOptions;
  externalEventName?: string;
  compoundActions?: ShimAction[];
}

/** The JSON of durable-functions RetryOptions, as the extension's RetryOptionsConverter reads it. */
export interface ShimRetryOptions {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

/** One piece of work the replay scheduled: recorded in the history under `id`, then dispatched if new. */
export type Decision =
  | { kind: "activity"; id: number; name: string; input: string | undefined }
  | { kind: "subOrchestration"; id: number; name: string; instanceId: string | undefined; input: string | undefined }
  | { kind: "timer"; id: number; fireAt: Date }
  | {
      kind: "entity";
      id: number;
      target: string;
      operation: string;
      input: string | undefined;
      /** The request id (a call's response is the EventRaised of that name). */
      requestId: string;
      signal: boolean;
    };

/** Whether a function of that kind is registered (the extension's ThrowIfFunctionDoesNotExist). */
export type FunctionExists = (kind: "activity" | "orchestration", name: string) => boolean;

export interface ShimOutcome {
  /** Work scheduled in this episode, in id order. */
  newDecisions: Decision[];
  /** Timers whose action says isCanceled (their firing no longer matters). */
  cancelledTimers: number[];
  /** The ContinueAsNew action's input, when the list holds one. */
  continueAsNew?: { input: unknown };
  /** Set when the history holds scheduled work that this replay did not schedule (or scheduled differently). */
  nonDeterminism?: string;
  /** Why InvokeAPIFromAction threw (an action the shim cannot run, a function that does not exist). */
  invalid?: string;
}

const schedulingTypes: ReadonlySet<number> = new Set([
  HistoryEventType.TaskScheduled,
  HistoryEventType.SubOrchestrationInstanceCreated,
  HistoryEventType.TimerCreated,
  HistoryEventType.EventSent,
]);

const completionKinds: Readonly<Record<number, boolean>> = {
  [HistoryEventType.TaskCompleted]: true,
  [HistoryEventType.TaskFailed]: false,
  [HistoryEventType.SubOrchestrationInstanceCompleted]: true,
  [HistoryEventType.SubOrchestrationInstanceFailed]: false,
  [HistoryEventType.TimerFired]: true,
};

/** Activity and continueAsNew inputs are JSON-encoded by the library when they are strings (Utils.processInput). */
function decodeProcessedInput(input: unknown): unknown {
  return typeof input === "string" ? (JSON.parse(input) as unknown) : input;
}

function inputJson(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}

function describe(decision: Decision): string {
  switch (decision.kind) {
    case "activity":
    case "subOrchestration":
      return `${decision.kind} "${decision.name}"`;
    case "timer":
      return "timer";
    case "entity":
      return `entity ${decision.signal ? "signal" : "call"} "${decision.target}:${decision.operation}"`;
  }
}

function describeEvent(event: HistoryEvent): string {
  if (event.EventType === HistoryEventType.TaskScheduled) return `activity "${event.Name ?? ""}"`;
  if (event.EventType === HistoryEventType.SubOrchestrationInstanceCreated)
    return `subOrchestration "${event.Name ?? ""}"`;
  if (event.EventType === HistoryEventType.TimerCreated) return "timer";
  const request = JSON.parse(event.Input ?? "{}") as { op?: string; signal?: boolean };
  return `entity ${request.signal ? "signal" : "call"} "${event.InstanceId ?? ""}:${request.op ?? ""}"`;
}

/** Replays one episode's action list against the history; see the file comment. */
export function replayShim(
  history: readonly HistoryEvent[],
  actions: readonly unknown[],
  functionExists: FunctionExists,
): ShimOutcome {
  const replay = new ShimReplay(history, flatActionList(actions), functionExists);
  return replay.run();
}

/** V2/V3: the actions arrive as a one-element outer array (ReplayOOProcOrchestration checks its length). */
function flatActionList(actions: readonly unknown[]): ShimAction[] {
  if (actions.length !== 1 || !Array.isArray(actions[0]))
    throw new Error(`With OOProc schema V3, expected actions array to be of length 1 in outer layer`);
  return actions[0] as ShimAction[];
}

class ShimReplay {
  private nextId = 0;
  private now = new Date(0);
  private readonly decisions = new Map<number, Decision>();
  private readonly recorded = new Set<number>();
  private readonly waitingOnId = new Map<number, (succeeded: boolean) => void>();
  private readonly waitingOnEvent = new Map<string, ((succeeded: boolean) => void)[]>();
  private readonly bufferedEvents = new Map<string, number>();
  private readonly recordedRequestIds = new Map<number, string>();
  private readonly outcome: ShimOutcome = { newDecisions: [], cancelledTimers: [] };
  private cursor = 0;

  constructor(
    private readonly history: readonly HistoryEvent[],
    private readonly actions: readonly ShimAction[],
    private readonly functionExists: FunctionExists,
  ) {
    for (const event of history) {
      if (event.EventType === HistoryEventType.EventSent && event.EventId >= 0)
        this.recordedRequestIds.set(event.EventId, (JSON.parse(event.Input ?? "{}") as { id?: string }).id ?? "");
    }
  }

  run(): ShimOutcome {
    for (const event of this.history) {
      this.apply(event);
      if (this.outcome.nonDeterminism || this.outcome.invalid) return this.outcome;
    }
    this.outcome.newDecisions = [...this.decisions.values()]
      .filter((decision) => !this.recorded.has(decision.id))
      .sort((a, b) => a.id - b.id);
    return this.outcome;
  }

  /** One history event, as DurableTask.Core's TaskOrchestrationExecutor processes it. */
  private apply(event: HistoryEvent): void {
    if (event.EventType === HistoryEventType.OrchestratorStarted) {
      this.now = new Date(event.Timestamp);
    } else if (event.EventType === HistoryEventType.ExecutionStarted) {
      this.continueActions();
    } else if (schedulingTypes.has(event.EventType) && event.EventId >= 0) {
      this.matchRecorded(event);
    } else if (event.EventType in completionKinds) {
      const id = event.TaskScheduledId ?? event.TimerId ?? -1;
      const resume = this.waitingOnId.get(id);
      this.waitingOnId.delete(id);
      resume?.(completionKinds[event.EventType]!);
    } else if (event.EventType === HistoryEventType.EventRaised) {
      this.raise(event.Name ?? "", !this.isEntityFailure(event));
    }
  }

  /** The history's scheduled work must be what the replay scheduled under that id (else non-determinism). */
  private matchRecorded(event: HistoryEvent): void {
    const decision = this.decisions.get(event.EventId);
    const recorded = describeEvent(event);
    if (!decision || describe(decision) !== recorded) {
      const replayed = decision ? describe(decision) : "nothing";
      this.outcome.nonDeterminism =
        `Non-deterministic orchestration: the history has ${recorded} as task ${event.EventId}, ` +
        `but the replay scheduled ${replayed} there`;
      return;
    }
    this.recorded.add(event.EventId);
  }

  /** An entity's error response (ResponseMessage with exceptionType); any other event data succeeds. */
  private isEntityFailure(event: HistoryEvent): boolean {
    try {
      const response = JSON.parse(event.Input ?? "{}") as { exceptionType?: string } | null;
      return typeof response === "object" && response !== null && response.exceptionType !== undefined;
    } catch {
      return false;
    }
  }

  /** ProcessAsyncActionsV2: invoke each action, await it, go on with the next. */
  private continueActions(): void {
    while (this.cursor < this.actions.length && !this.outcome.invalid) {
      const task = this.invoke(this.actions[this.cursor++]!);
      if (!task.isSettled) {
        task.onSettled(() => this.continueActions());
        return;
      }
    }
  }

  /** InvokeAPIFromAction. */
  private invoke(action: ShimAction): ShimTask {
    switch (action.actionType) {
      case ActionType.CallActivity:
        return this.call(activityDecision(action));
      case ActionType.CallSubOrchestrator:
        return this.call(subOrchestrationDecision(action));
      case ActionType.CallActivityWithRetry:
        return this.withRetry(action, () => this.call(activityDecision(action)));
      case ActionType.CallSubOrchestratorWithRetry:
        return this.withRetry(action, () => this.call(subOrchestrationDecision(action)));
      case ActionType.CreateTimer:
        return this.timer(action);
      case ActionType.CallEntity:
      case ActionType.SignalEntity:
        return this.entity(action);
      case ActionType.ContinueAsNew:
        this.outcome.continueAsNew = { input: decodeProcessedInput(action.input) };
        return settledTask(true);
      case ActionType.WaitForExternalEvent:
        return this.waitOnEvent(action.externalEventName ?? "");
      case ActionType.WhenAll:
        return ShimTask.all((action.compoundActions ?? []).map((child) => this.invoke(child)));
      case ActionType.WhenAny:
        return ShimTask.any((action.compoundActions ?? []).map((child) => this.invoke(child)));
      default:
        this.outcome.invalid = `the local host does not support action type ${action.actionType}`;
        return settledTask(false);
    }
  }

  /** An activity or sub-orchestration call (DurableOrchestrationContext.CallDurableTaskFunctionAsync). */
  private call(draft: CallDraft): ShimTask {
    const kind = draft.kind === "activity" ? "activity" : "orchestration";
    if (!this.functionExists(kind, draft.name)) {
      this.outcome.invalid = `The function '${draft.name}' doesn't exist, is disabled, or is not an ${kind} function.`;
      return settledTask(false);
    }
    return this.waitOn(this.schedule(draft));
  }

  /** Gives the work the next id (TaskOrchestrationContext: `int id = this.idCounter++`). */
  private schedule(draft: DistributiveOmit<Decision, "id">): number {
    const id = this.nextId++;
    this.decisions.set(id, { ...draft, id } as Decision);
    return id;
  }

  private waitOn(id: number): ShimTask {
    const task = new ShimTask();
    this.waitingOnId.set(id, (succeeded) => task.settle(succeeded));
    return task;
  }

  private waitOnEvent(name: string): ShimTask {
    const task = new ShimTask();
    const buffered = this.bufferedEvents.get(name) ?? 0;
    if (buffered > 0) {
      this.bufferedEvents.set(name, buffered - 1);
      task.settle(true);
      return task;
    }
    const waiters = this.waitingOnEvent.get(name) ?? [];
    waiters.push((succeeded) => task.settle(succeeded));
    this.waitingOnEvent.set(name, waiters);
    return task;
  }

  private raise(name: string, succeeded: boolean): void {
    const waiter = this.waitingOnEvent.get(name)?.shift();
    if (waiter) waiter(succeeded);
    else this.bufferedEvents.set(name, (this.bufferedEvents.get(name) ?? 0) + 1);
  }

  /**
   * CreateTimer: a cancelled timer is still created; its task ends at once (OutOfProcOrchestrationShim). A timer
   * further away than the provider's MaximumDelayTime (Azure Storage: 6 days) is a chain of timers of at most
   * LongRunningTimerIntervalLength (3 days) each (DurableOrchestrationContext.CreateTimer,
   * AzureStorageDurabilityProvider.cs).
   */
  private timer(action: ShimAction): ShimTask {
    const fireAt = action.fireAt === undefined ? this.now : new Date(action.fireAt);
    const isLong = fireAt.getTime() - this.now.getTime() > MAXIMUM_DELAY_MS;
    const first = isLong ? new Date(this.now.getTime() + LONG_TIMER_INTERVAL_MS) : fireAt;
    const id = this.schedule({ kind: "timer", fireAt: first });
    if (action.isCanceled) {
      this.outcome.cancelledTimers.push(id);
      return settledTask(false);
    }
    if (!isLong) return this.waitOn(id);
    const result = new ShimTask();
    const next = (): void => {
      const remaining = fireAt.getTime() - this.now.getTime();
      if (remaining <= 0) return result.settle(true);
      const interval = Math.min(remaining, LONG_TIMER_INTERVAL_MS);
      this.waitOn(this.schedule({ kind: "timer", fireAt: new Date(this.now.getTime() + interval) })).onSettled(next);
    };
    this.waitOn(id).onSettled(next);
    return result;
  }

  /** CallEntity / SignalEntity: SendEvent takes an id; a call then waits for the response named by its request id. */
  private entity(action: ShimAction): ShimTask {
    const signal = action.actionType === ActionType.SignalEntity;
    const requestId = this.recordedRequestIds.get(this.nextId) ?? randomUUID();
    const target = action.instanceId ?? "";
    const operation = action.operation ?? "";
    this.schedule({ kind: "entity", target, operation, input: inputJson(action.input), requestId, signal });
    return signal ? settledTask(true) : this.waitOnEvent(requestId);
  }

  /** RetryInterceptor.Invoke: attempt, then a delay timer per failure; after the last attempt an immediate timer. */
  private withRetry(action: ShimAction, attempt: () => ShimTask): ShimTask {
    const options = action.retryOptions!;
    const result = new ShimTask();
    const firstAttempt = this.now;
    let retryCount = 0;
    const tryOnce = (): void => {
      attempt().onSettled((succeeded) => {
        if (succeeded) return result.settle(true);
        const isLastRetry = retryCount + 1 >= options.maxNumberOfAttempts;
        const delay = isLastRetry ? 0 : nextRetryDelay(options, retryCount, firstAttempt, this.now);
        if (!isLastRetry && delay === 0) return result.settle(false);
        const timer = this.waitOn(this.schedule({ kind: "timer", fireAt: new Date(this.now.getTime() + delay) }));
        timer.onSettled(() => {
          retryCount++;
          if (isLastRetry) result.settle(false);
          else tryOnce();
        });
      });
    };
    tryOnce();
    return result;
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

type CallDraft = DistributiveOmit<Extract<Decision, { kind: "activity" | "subOrchestration" }>, "id">;

function activityDecision(action: ShimAction): CallDraft {
  return {
    kind: "activity",
    name: action.functionName ?? "",
    input: inputJson(decodeProcessedInput(action.input)),
  };
}

function subOrchestrationDecision(action: ShimAction): CallDraft {
  return {
    kind: "subOrchestration",
    name: action.functionName ?? "",
    instanceId: action.instanceId || undefined,
    input: inputJson(action.input),
  };
}

/** RetryInterceptor.ComputeNextDelay: first * backoff^retryCount, capped; 0 once the retry timeout has passed. */
function nextRetryDelay(options: ShimRetryOptions, retryCount: number, firstAttempt: Date, now: Date): number {
  const timeout = options.retryTimeoutInMilliseconds;
  if (timeout !== undefined && now.getTime() >= firstAttempt.getTime() + timeout) return 0;
  const delay = options.firstRetryIntervalInMilliseconds * (options.backoffCoefficient ?? 1) ** retryCount;
  const cap = options.maxRetryIntervalInMilliseconds;
  return cap !== undefined && cap > 0 && delay >= cap ? cap : delay;
}
