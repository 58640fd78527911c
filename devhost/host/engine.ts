/**
 * The durable engine of the local host: it drives orchestrations through the
 * `durable-functions` replay engine (the recorded orchestration handler) with a growing
 * history, runs activities with bounded concurrency, entities one operation at a time,
 * durable timers on the host clock, and keeps every instance in the store.
 *
 * What the library's executor exposes after an episode is read, never changed:
 * the returned state (cumulative actions, output, custom status) and the executor's open
 * tasks (the ids it assigned to scheduled work, including the hidden retry timers).
 */
import { randomUUID } from "node:crypto";
import type { InvocationContext } from "@azure/functions";
import { ValidationError } from "../../src/errors";
import { logFailure, logger } from "../../src/logger";
import { VirtualClock, type HostClock } from "./clock";
import {
  completedIds,
  historyEvents,
  HistoryEventType,
  scheduledIds,
  toFailureDetails,
  toJson,
  type FailureDetailsPayload,
  type HistoryEvent,
} from "./history";
import { KeyedSerialQueue } from "./keyedQueue";
import type { FunctionRegistration } from "./registry";
import type { ActionSignature, EntityRecord, EntityRequest, HostStore, InstanceRecord, RuntimeStatus } from "./store";

/** durable-functions ActionType values (lib/src/actions/ActionType.js). */
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
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;
const actionTypeNames = Object.fromEntries(Object.entries(ActionType).map(([k, v]) => [v, k])) as Record<
  number,
  string
>;

/** The fields of durable-functions action objects the engine reads. */
interface LibraryAction {
  actionType: number;
  functionName?: string;
  input?: unknown;
  instanceId?: string;
  operation?: string;
  fireAt?: Date;
  isCanceled?: boolean;
  reason?: string;
  retryOptions?: LibraryRetryOptions;
  externalEventName?: string;
  compoundActions?: LibraryAction[];
}

interface LibraryRetryOptions {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
}

/** The fields of durable-functions task objects the engine reads. */
interface LibraryTask {
  id: number | string | false;
  actionObj: LibraryAction | "noOp";
  parent?: LibraryRetryableTask;
}

interface LibraryRetryableTask {
  retryOptions?: LibraryRetryOptions;
  attemptNumber?: number;
  isWaitingOnTimer?: boolean;
  innerTask?: LibraryTask;
}

interface LibraryExecutor {
  openTasks: Record<string, LibraryTask>;
  exception?: unknown;
}

interface LibraryOrchestratorState {
  isDone: boolean;
  actions: unknown[];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
  failureDetails?: FailureDetailsPayload;
}

interface EntityOperationResult {
  isError: boolean;
  result?: string;
}

interface EntitySignal {
  target: { name: string; key: string };
  name: string;
  input: string;
}

interface EntityBatchResult {
  entityExists: boolean;
  entityState?: string;
  results: EntityOperationResult[];
  signals: EntitySignal[];
}

const outOfProcDataLabel = "\n\n$OutOfProcData$:";
const terminalStatuses: ReadonlySet<RuntimeStatus> = new Set(["Completed", "Failed", "Terminated"]);

export function isTerminal(status: RuntimeStatus): boolean {
  return terminalStatuses.has(status);
}

/** Scheduler id of an entity, as durable-functions builds it. */
export function entitySchedulerId(name: string, key: string): string {
  return `@${name.toLowerCase()}@${key}`;
}

function parseSchedulerId(schedulerId: string): { name: string; key: string } {
  const separator = schedulerId.indexOf("@", 1);
  return { name: schedulerId.substring(1, separator), key: schedulerId.substring(separator + 1) };
}

/** Activity and continueAsNew inputs are JSON-encoded by the library when they are strings. */
function decodeProcessedInput(input: unknown): unknown {
  return typeof input === "string" ? (JSON.parse(input) as unknown) : input;
}

function inputJson(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}

function parseJson(text: string | undefined): unknown {
  return text === undefined || text === "" ? undefined : (JSON.parse(text) as unknown);
}

function flattenActions(actions: readonly unknown[]): LibraryAction[] {
  const flat: LibraryAction[] = [];
  const visit = (item: unknown): void => {
    if (Array.isArray(item)) {
      item.forEach(visit);
      return;
    }
    const action = item as LibraryAction;
    if (action.actionType === ActionType.WhenAll || action.actionType === ActionType.WhenAny) {
      (action.compoundActions ?? []).forEach(visit);
    } else {
      flat.push(action);
    }
  };
  visit(actions);
  return flat;
}

function signatureOf(action: LibraryAction): ActionSignature {
  const kind = actionTypeNames[action.actionType] ?? `Action${action.actionType}`;
  const target =
    action.actionType === ActionType.CallEntity || action.actionType === ActionType.SignalEntity
      ? `${action.instanceId}:${action.operation}`
      : action.actionType === ActionType.WaitForExternalEvent
        ? (action.externalEventName ?? "")
        : (action.functionName ?? "");
  return { kind, name: target };
}

function retryDelayInMs(options: LibraryRetryOptions, nextAttempt: number): number {
  if (nextAttempt > options.maxNumberOfAttempts) return 0;
  const delay = options.firstRetryIntervalInMilliseconds * (options.backoffCoefficient ?? 1) ** (nextAttempt - 2);
  return options.maxRetryIntervalInMilliseconds ? Math.min(delay, options.maxRetryIntervalInMilliseconds) : delay;
}

/** The library's executor of the episode that ran with `context` (set by the Orchestrator on context.df). */
function executorOf(context: InvocationContext): LibraryExecutor | undefined {
  return (context as unknown as { df?: { taskOrchestratorExecutor?: LibraryExecutor } }).df?.taskOrchestratorExecutor;
}

/** Makes the InvocationContext for one invocation of a registered function (fresh each time). */
export type InvocationContextFactory = (registration: FunctionRegistration) => InvocationContext;

/** Hooks the host's fault injection plugs into (see faults.ts). */
export interface EngineFaultHooks {
  /** Called before an activity runs; throwing makes that attempt fail. */
  beforeActivity(name: string): void;
  /**
   * Called after an activity ran; a callback means "crash now" (run it once stopped): the completion is never recorded.
   */
  crashAfterActivityRan(name: string): (() => void) | undefined;
}

export interface EngineOptions {
  registrations: readonly FunctionRegistration[];
  store: HostStore;
  clock: HostClock;
  maxConcurrentActivities: number;
  createContext: InvocationContextFactory;
  faults: EngineFaultHooks;
  /** Called when a fault asks for a crash: the host stops without recording anything more, then calls `crashed`. */
  onCrash: (crashed: () => void) => void;
}

/** Why starting an instance was refused. */
export type StartOutcome =
  { started: true; instanceId: string } | { started: false; reason: "unknownOrchestration" | "alreadyRunning" };
export type InstanceOperationOutcome = "accepted" | "notFound" | "notRunning";

export class DurableEngine {
  readonly instances = new Map<string, InstanceRecord>();
  readonly entities = new Map<string, EntityRecord>();
  private readonly orchestrations = new Map<string, FunctionRegistration>();
  private readonly activities = new Map<string, FunctionRegistration>();
  private readonly entityFunctions = new Map<string, FunctionRegistration>();
  /** One episode at a time per instance, one operation at a time per entity. */
  private readonly instanceQueue = new KeyedSerialQueue();
  private readonly entityQueue = new KeyedSerialQueue();
  private readonly armedTimers = new Map<string, { fireAt: number; cancel: () => void }>();
  private readonly statusListeners = new Set<() => void>();
  private readonly idleListeners = new Set<() => void>();
  private activitySlotsInUse = 0;
  private readonly activityWaiters: (() => void)[] = [];
  private busy = 0;
  private stopped = false;
  private pendingSaves = new Set<Promise<void>>();

  constructor(private readonly options: EngineOptions) {
    for (const registration of options.registrations) {
      if (registration.triggerType === "orchestrationTrigger") this.orchestrations.set(registration.name, registration);
      if (registration.triggerType === "activityTrigger") this.activities.set(registration.name, registration);
      if (registration.triggerType === "entityTrigger")
        this.entityFunctions.set(registration.name.toLowerCase(), registration);
    }
  }

  /** Loads the store and resumes every unfinished instance and entity queue from it. */
  async resume(): Promise<void> {
    const snapshot = await this.options.store.load();
    for (const entity of snapshot.entities) this.entities.set(entity.entityId, entity);
    for (const instance of snapshot.instances) this.instances.set(instance.instanceId, instance);
    for (const instance of snapshot.instances) {
      if (!isTerminal(instance.status)) this.resumeInstance(instance);
    }
    for (const entity of snapshot.entities) {
      if (entity.queue.length > 0) this.scheduleEntity(entity.entityId);
    }
    // Re-armed timers alone start no work: let an auto-advancing clock see the idle host.
    setImmediate(() => this.onMaybeIdle());
  }

  private resumeInstance(instance: InstanceRecord): void {
    const all = [...instance.history, ...instance.inbox];
    const done = completedIds(all);
    for (const event of instance.history) {
      if (event.EventId < 0 || done.has(event.EventId)) continue;
      if (event.EventType === HistoryEventType.TaskScheduled) {
        this.queueActivity(instance.instanceId, instance.executionId, event.EventId, event.Name ?? "", event.Input);
      } else if (event.EventType === HistoryEventType.TimerCreated) {
        this.armTimer(instance.instanceId, instance.executionId, event.EventId, event.FireAt ?? event.Timestamp);
      } else if (event.EventType === HistoryEventType.SubOrchestrationInstanceCreated) {
        const child = this.instances.get(event.InstanceId ?? "");
        if (child && isTerminal(child.status)) this.notifyParent(child);
      }
    }
    if (instance.inbox.length > 0) this.scheduleEpisode(instance.instanceId);
  }

  // ---- bookkeeping -------------------------------------------------------------------------

  /**
   * Counts a unit of work (also the host's background trigger invocations) so `whenIdle` knows when nothing can run.
   */
  track(work: () => Promise<void>): Promise<void> {
    this.busy++;
    return work()
      .catch((error: unknown) => logFailure("local host: background work failed", error))
      .finally(() => {
        this.busy--;
        if (this.busy === 0) setImmediate(() => this.onMaybeIdle());
      });
  }

  private onMaybeIdle(): void {
    if (this.busy > 0) return;
    const clock = this.options.clock;
    if (!this.stopped && clock instanceof VirtualClock && clock.autoAdvance) {
      const next = this.nextTimerDueTime();
      if (next !== undefined) {
        clock.advanceTo(new Date(next));
        if (this.busy > 0) return;
      }
    }
    for (const listener of [...this.idleListeners]) listener();
  }

  /** Earliest pending durable timer (ms since epoch), or undefined. */
  nextTimerDueTime(): number | undefined {
    let earliest: number | undefined;
    for (const timer of this.armedTimers.values()) {
      if (earliest === undefined || timer.fireAt < earliest) earliest = timer.fireAt;
    }
    return earliest;
  }

  /** Resolves when no work is queued or running (and, with auto-advance, no durable timer is pending). */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.busy > 0) return;
        this.idleListeners.delete(check);
        resolve();
      };
      this.idleListeners.add(check);
      setImmediate(() => this.onMaybeIdle());
    });
  }

  /** Resolves with the record once `predicate` holds for the instance. */
  whenInstance(
    instanceId: string,
    predicate: (record: InstanceRecord | undefined) => boolean,
  ): { promise: Promise<InstanceRecord | undefined>; cancel: () => void } {
    let listener: () => void = () => undefined;
    const promise = new Promise<InstanceRecord | undefined>((resolve) => {
      listener = () => {
        const record = this.instances.get(instanceId);
        if (!predicate(record)) return;
        this.statusListeners.delete(listener);
        resolve(record);
      };
      this.statusListeners.add(listener);
      listener();
    });
    return { promise, cancel: () => this.statusListeners.delete(listener) };
  }

  private notifyStatus(): void {
    for (const listener of [...this.statusListeners]) listener();
  }

  private save(instance: InstanceRecord): Promise<void> {
    instance.lastUpdatedTime = this.options.clock.now().toISOString();
    return this.persist(this.options.store.saveInstance(instance));
  }

  private saveEntity(entity: EntityRecord): Promise<void> {
    entity.lastModifiedTime = this.options.clock.now().toISOString();
    return this.persist(this.options.store.saveEntity(entity));
  }

  private persist(write: Promise<void>): Promise<void> {
    this.pendingSaves.add(write);
    return write.finally(() => this.pendingSaves.delete(write));
  }

  /** Stops all scheduling: timers are cancelled, running work is abandoned (its results dropped). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.armedTimers.values()) timer.cancel();
    this.armedTimers.clear();
    for (const waiter of this.activityWaiters.splice(0)) waiter();
    await Promise.allSettled([...this.pendingSaves]);
  }

  private assertRunning(): void {
    if (this.stopped) throw new ValidationError("the local host is stopped: start a new host on the same store");
  }

  // ---- client operations -------------------------------------------------------------------

  /** Starts an orchestration; a running id is refused, a finished id starts afresh. */
  async startOrchestration(
    name: string,
    instanceId: string | undefined,
    input: string | undefined,
    parent?: InstanceRecord["parent"],
  ): Promise<StartOutcome> {
    this.assertRunning();
    if (!this.orchestrations.has(name)) return { started: false, reason: "unknownOrchestration" };
    const id = instanceId ?? randomUUID().replace(/-/g, "");
    const existing = this.instances.get(id);
    if (existing && !isTerminal(existing.status)) return { started: false, reason: "alreadyRunning" };
    const now = this.options.clock.now();
    const record: InstanceRecord = {
      instanceId: id,
      executionId: randomUUID(),
      name,
      status: "Pending",
      input,
      createdTime: now.toISOString(),
      lastUpdatedTime: now.toISOString(),
      history: [],
      inbox: [historyEvents.executionStarted(now, name, input)],
      actions: [],
      parent,
    };
    this.instances.set(id, record);
    await this.save(record);
    this.notifyStatus();
    this.scheduleEpisode(id);
    return { started: true, instanceId: id };
  }

  async raiseEvent(instanceId: string, eventName: string, data: string | undefined): Promise<InstanceOperationOutcome> {
    this.assertRunning();
    const record = this.instances.get(instanceId);
    if (!record) return "notFound";
    if (isTerminal(record.status)) return "notRunning";
    record.inbox.push(historyEvents.eventRaised(this.options.clock.now(), eventName, data));
    await this.save(record);
    this.scheduleEpisode(instanceId);
    return "accepted";
  }

  async terminate(instanceId: string, reason: string): Promise<InstanceOperationOutcome> {
    this.assertRunning();
    const record = this.instances.get(instanceId);
    if (!record) return "notFound";
    if (isTerminal(record.status)) return "notRunning";
    await this.finish(record, "Terminated", reason);
    return "accepted";
  }

  /** Deletes a finished instance's record; returns how many were deleted. */
  async purge(instanceId: string): Promise<number> {
    const record = this.instances.get(instanceId);
    if (!record || !isTerminal(record.status)) return 0;
    this.instances.delete(instanceId);
    await this.persist(this.options.store.deleteInstance(instanceId));
    return 1;
  }

  /** Queues a one-way operation for an entity. */
  async signalEntity(name: string, key: string, operation: string, input: string | undefined): Promise<void> {
    this.assertRunning();
    await this.enqueueEntity(entitySchedulerId(name, key), { id: randomUUID(), operation, signal: true, input });
  }

  // ---- orchestration episodes --------------------------------------------------------------

  private scheduleEpisode(instanceId: string): void {
    if (this.stopped) return;
    void this.track(() => this.instanceQueue.run(instanceId, () => this.runEpisode(instanceId)));
  }

  private async runEpisode(instanceId: string): Promise<void> {
    const record = this.instances.get(instanceId);
    if (this.stopped || !record || isTerminal(record.status) || record.inbox.length === 0) return;
    const registration = this.orchestrations.get(record.name);
    const now = this.options.clock.now();
    const newEvents = record.inbox.splice(0);
    const episodeHistory = [
      ...record.history.map((e) => ({ ...e, IsPlayed: true })),
      historyEvents.orchestratorStarted(now),
      ...newEvents,
    ];
    if (!registration) {
      record.history = episodeHistory;
      await this.fail(record, {
        ErrorType: "Error",
        ErrorMessage: `no orchestration function named "${record.name}" is registered`,
      });
      return;
    }
    record.status = "Running";
    const context = this.options.createContext(registration);
    const bindingInput = {
      history: structuredClone(episodeHistory),
      input: parseJson(record.input),
      instanceId,
      isReplaying: record.history.length > 0,
      parentInstanceId: record.parent?.instanceId,
      upperSchemaVersion: 3, // ReplaySchema.V4, the library's latest
      maximumShortTimerDuration: "6.00:00:00",
      longRunningTimerIntervalDuration: "3.00:00:00",
      defaultHttpAsyncRequestSleepTimeMillseconds: 30_000,
    };
    let state: LibraryOrchestratorState;
    let thrown: unknown;
    try {
      state = (await registration.handler(bindingInput, context)) as LibraryOrchestratorState;
    } catch (error) {
      thrown = error;
      state = this.stateFromFailure(error);
    }
    if (this.stopped) return;
    record.history = episodeHistory;
    if (state.customStatus !== undefined) record.customStatus = state.customStatus;

    const actions = flattenActions(state.actions);
    const divergence = this.findDivergence(record.actions, actions, state, thrown);
    if (divergence) {
      await this.fail(record, { ErrorType: "NonDeterministicOrchestrationError", ErrorMessage: divergence });
      return;
    }
    const newActions = actions.slice(record.actions.length);
    record.actions = actions.map(signatureOf);

    if (thrown !== undefined) {
      await this.fail(record, this.failureOf(state, thrown, context));
      return;
    }
    const continueAsNew = newActions.find((a) => a.actionType === ActionType.ContinueAsNew);
    const dispatches = this.scheduleNewWork(record, newActions, context, now);
    if (continueAsNew) {
      await this.continueAsNew(record, decodeProcessedInput(continueAsNew.input));
    } else if (state.isDone) {
      await this.finish(record, "Completed", state.output);
    } else {
      record.history.push(historyEvents.orchestratorCompleted(now));
      await this.save(record);
      this.notifyStatus();
    }
    // Events that arrived meanwhile scheduled their own episode (deliver), queued after this one.
    for (const dispatch of dispatches) await dispatch();
  }

  /** Non-determinism: the replay must schedule the same work, in the same order, as its history. */
  private findDivergence(
    recorded: readonly ActionSignature[],
    actions: readonly LibraryAction[],
    state: LibraryOrchestratorState,
    thrown: unknown,
  ): string | undefined {
    for (let i = 0; i < Math.min(recorded.length, actions.length); i++) {
      const replayed = signatureOf(actions[i]);
      if (replayed.kind !== recorded[i].kind || replayed.name !== recorded[i].name) {
        return (
          `Non-deterministic orchestration: action #${i} was ${recorded[i].kind} "${recorded[i].name}" ` +
          `in the history, but the replay scheduled ${replayed.kind} "${replayed.name}"`
        );
      }
    }
    if (actions.length < recorded.length && thrown === undefined && !state.isDone) {
      const missing = recorded[actions.length];
      return `Non-deterministic orchestration: the history has ${missing.kind} "${missing.name}" (action #${actions.length}), which the replay did not schedule`;
    }
    return undefined;
  }

  private stateFromFailure(error: unknown): LibraryOrchestratorState {
    const message = error instanceof Error ? error.message : String(error);
    const at = message.indexOf(outOfProcDataLabel);
    if (at >= 0) {
      try {
        return JSON.parse(message.substring(at + outOfProcDataLabel.length)) as LibraryOrchestratorState;
      } catch {
        // Fall through: the error is reported as it is.
      }
    }
    return { isDone: false, actions: [], error: message };
  }

  /**
   * The orchestrator's real error. durable-functions 3.5.0 throws an OrchestrationFailureError
   * built from a boolean (its message is "false..."), so the error is read from the executor.
   */
  private failureOf(
    state: LibraryOrchestratorState,
    thrown: unknown,
    context: InvocationContext,
  ): FailureDetailsPayload {
    if (state.failureDetails) return state.failureDetails;
    const exception = executorOf(context)?.exception;
    if (exception !== undefined) return toFailureDetails(exception);
    const details = toFailureDetails(thrown);
    return { ...details, ErrorMessage: state.error ?? details.ErrorMessage };
  }

  /** Records the scheduling events of new work in the history; returns the dispatches to run after saving. */
  private scheduleNewWork(
    record: InstanceRecord,
    newActions: readonly LibraryAction[],
    context: InvocationContext,
    now: Date,
  ): (() => Promise<void>)[] {
    const dispatches: (() => Promise<void>)[] = [];
    const instanceId = record.instanceId;
    for (const action of newActions) {
      if (action.actionType === ActionType.SignalEntity) {
        const target = action.instanceId ?? "";
        const request: EntityRequest = {
          id: randomUUID(),
          operation: action.operation ?? "",
          signal: true,
          input: inputJson(action.input),
        };
        record.history.push(
          historyEvents.eventSent(now, -1, target, "op", JSON.stringify({ ...request, parent: instanceId })),
        );
        dispatches.push(() => this.enqueueEntity(target, request));
      }
    }
    const executor = executorOf(context);
    const alreadyScheduled = scheduledIds(record.history);
    const openTasks = Object.entries(executor?.openTasks ?? {})
      .filter(([key]) => /^\d+$/.test(key) && !alreadyScheduled.has(Number(key)))
      .map(([key, task]) => [Number(key), task] as const)
      .sort(([a], [b]) => a - b);
    for (const [id, task] of openTasks) {
      const dispatch = this.scheduleTask(record, id, task, now);
      if (dispatch) dispatches.push(dispatch);
    }
    // A cancelled timer (Task.any loser) is disarmed, so an idle virtual clock does not jump to it.
    for (const [key, task] of Object.entries(executor?.openTasks ?? {})) {
      if (
        task.actionObj !== "noOp" &&
        task.actionObj.actionType === ActionType.CreateTimer &&
        task.actionObj.isCanceled
      ) {
        this.disarmTimer(instanceId, Number(key));
      }
    }
    return dispatches;
  }

  private scheduleTask(
    record: InstanceRecord,
    id: number,
    task: LibraryTask,
    now: Date,
  ): (() => Promise<void>) | undefined {
    const { instanceId, executionId } = record;
    let action: LibraryAction;
    if (task.actionObj === "noOp") {
      // A retry step of callActivityWithRetry/callSubOrchestratorWithRetry: a delay timer, then a new attempt.
      const retryable = task.parent;
      const inner = retryable?.innerTask?.actionObj;
      if (!retryable?.retryOptions || !inner || inner === "noOp") return undefined;
      if (retryable.isWaitingOnTimer) {
        const fireAt = new Date(now.getTime() + retryDelayInMs(retryable.retryOptions, retryable.attemptNumber ?? 2));
        record.history.push(historyEvents.timerCreated(now, id, fireAt));
        return async () => this.armTimer(instanceId, executionId, id, fireAt.toISOString());
      }
      action = inner;
    } else {
      action = task.actionObj;
    }
    switch (action.actionType) {
      case ActionType.CallActivity:
      case ActionType.CallActivityWithRetry: {
        const input = inputJson(decodeProcessedInput(action.input));
        const name = action.functionName ?? "";
        record.history.push(historyEvents.taskScheduled(now, id, name, input));
        return async () => this.queueActivity(instanceId, executionId, id, name, input);
      }
      case ActionType.CallSubOrchestrator:
      case ActionType.CallSubOrchestratorWithRetry: {
        const name = action.functionName ?? "";
        const attempt = task.actionObj === "noOp" ? `:${id}` : "";
        const childId = action.instanceId ? `${action.instanceId}${attempt}` : `${instanceId}:${id}`;
        const input = inputJson(action.input);
        record.history.push(historyEvents.subOrchestrationCreated(now, id, name, childId, input));
        return () => this.startChild(record, id, name, childId, input);
      }
      case ActionType.CreateTimer: {
        const fireAt = action.fireAt ?? now;
        record.history.push(historyEvents.timerCreated(now, id, fireAt));
        return async () => this.armTimer(instanceId, executionId, id, fireAt.toISOString());
      }
      case ActionType.CallEntity: {
        const target = action.instanceId ?? "";
        const request: EntityRequest = {
          id: randomUUID(),
          operation: action.operation ?? "",
          signal: false,
          input: inputJson(action.input),
          replyTo: instanceId,
        };
        record.history.push(
          historyEvents.eventSent(now, id, target, "op", JSON.stringify({ ...request, parent: instanceId })),
        );
        return () => this.enqueueEntity(target, request);
      }
      default: {
        const kind = actionTypeNames[action.actionType] ?? String(action.actionType);
        const failure = { ErrorType: "NotSupportedError", ErrorMessage: `the local host does not support ${kind}` };
        record.history.push(historyEvents.taskScheduled(now, id, kind, undefined));
        return async () =>
          this.deliver(instanceId, historyEvents.taskFailed(this.options.clock.now(), id, failure), executionId);
      }
    }
  }

  private async startChild(
    parent: InstanceRecord,
    taskId: number,
    name: string,
    childId: string,
    input: string | undefined,
  ): Promise<void> {
    const parentRef = { instanceId: parent.instanceId, executionId: parent.executionId, taskId };
    const outcome = await this.startOrchestration(name, childId, input, parentRef);
    if (!outcome.started) {
      const reason =
        outcome.reason === "alreadyRunning"
          ? `an instance with id "${childId}" is already running`
          : `no orchestration function named "${name}" is registered`;
      const failure = historyEvents.subOrchestrationFailed(this.options.clock.now(), taskId, {
        ErrorType: "Error",
        ErrorMessage: reason,
      });
      await this.deliver(parent.instanceId, failure, parent.executionId);
    }
  }

  private async continueAsNew(record: InstanceRecord, input: unknown): Promise<void> {
    this.cancelTimers(record.instanceId);
    const now = this.options.clock.now();
    record.executionId = randomUUID();
    record.input = inputJson(input);
    record.history = [];
    record.actions = [];
    record.inbox = [historyEvents.executionStarted(now, record.name, record.input), ...record.inbox];
    await this.save(record);
    this.notifyStatus();
    this.scheduleEpisode(record.instanceId);
  }

  private async fail(record: InstanceRecord, failure: FailureDetailsPayload): Promise<void> {
    logger.warning(
      `local host: orchestration ${record.name} (${record.instanceId}) failed: ${failure.ErrorType}: ${failure.ErrorMessage}`,
    );
    record.failure = {
      errorType: failure.ErrorType,
      errorMessage: failure.ErrorMessage,
      stackTrace: failure.StackTrace,
    };
    await this.finish(
      record,
      "Failed",
      `Orchestrator function '${record.name}' failed: ${failure.ErrorMessage}`,
      failure,
    );
  }

  private async finish(
    record: InstanceRecord,
    status: RuntimeStatus,
    output: unknown,
    failure?: FailureDetailsPayload,
  ): Promise<void> {
    this.cancelTimers(record.instanceId);
    record.status = status;
    record.output = output;
    record.inbox = [];
    await this.save(record);
    this.notifyStatus();
    this.notifyParent(record, failure);
  }

  private notifyParent(child: InstanceRecord, failure?: FailureDetailsPayload): void {
    if (!child.parent) return;
    const now = this.options.clock.now();
    const { instanceId, executionId, taskId } = child.parent;
    const event =
      child.status === "Completed"
        ? historyEvents.subOrchestrationCompleted(now, taskId, toJson(child.output))
        : historyEvents.subOrchestrationFailed(
            now,
            taskId,
            failure ?? {
              ErrorType: child.failure?.errorType ?? "Error",
              ErrorMessage:
                child.failure?.errorMessage ??
                `sub-orchestration "${child.instanceId}" ended ${child.status}: ${String(child.output)}`,
            },
          );
    void this.track(() => this.deliver(instanceId, event, executionId));
  }

  /** Appends an event to an instance's inbox (if that execution still waits for it) and runs an episode. */
  private async deliver(instanceId: string, event: HistoryEvent, executionId?: string): Promise<void> {
    const record = this.instances.get(instanceId);
    if (this.stopped || !record || isTerminal(record.status)) return;
    if (executionId !== undefined && executionId !== record.executionId) return;
    const id = event.TaskScheduledId ?? event.TimerId;
    if (id !== undefined && completedIds([...record.history, ...record.inbox]).has(id)) return;
    record.inbox.push(event);
    await this.save(record);
    this.scheduleEpisode(instanceId);
  }

  // ---- timers ------------------------------------------------------------------------------

  private armTimer(instanceId: string, executionId: string, timerId: number, fireAtIso: string): void {
    if (this.stopped) return;
    const key = `${instanceId}\u0000${timerId}`;
    this.armedTimers.get(key)?.cancel();
    const fireAt = new Date(fireAtIso);
    const cancel = this.options.clock.schedule(fireAt, () => {
      this.armedTimers.delete(key);
      const record = this.instances.get(instanceId);
      const stillWaiting = record?.history.some(
        (e) => e.EventType === HistoryEventType.TimerCreated && e.EventId === timerId && e.FireAt === fireAtIso,
      );
      if (stillWaiting)
        void this.track(() =>
          this.deliver(instanceId, historyEvents.timerFired(this.options.clock.now(), timerId, fireAtIso), executionId),
        );
    });
    this.armedTimers.set(key, { fireAt: fireAt.getTime(), cancel });
  }

  private disarmTimer(instanceId: string, timerId: number): void {
    const key = `${instanceId}\u0000${timerId}`;
    this.armedTimers.get(key)?.cancel();
    this.armedTimers.delete(key);
  }

  private cancelTimers(instanceId: string): void {
    for (const [key, timer] of this.armedTimers) {
      if (key.startsWith(`${instanceId}\u0000`)) {
        timer.cancel();
        this.armedTimers.delete(key);
      }
    }
  }

  // ---- activities --------------------------------------------------------------------------

  private queueActivity(
    instanceId: string,
    executionId: string,
    taskId: number,
    name: string,
    input: string | undefined,
  ): void {
    void this.track(() => this.runActivity(instanceId, executionId, taskId, name, input));
  }

  private async acquireActivitySlot(): Promise<void> {
    while (this.activitySlotsInUse >= this.options.maxConcurrentActivities && !this.stopped) {
      await new Promise<void>((resolve) => this.activityWaiters.push(resolve));
    }
    this.activitySlotsInUse++;
  }

  private releaseActivitySlot(): void {
    this.activitySlotsInUse--;
    this.activityWaiters.shift()?.();
  }

  private async runActivity(
    instanceId: string,
    executionId: string,
    taskId: number,
    name: string,
    input: string | undefined,
  ): Promise<void> {
    await this.acquireActivitySlot();
    let outcome: HistoryEvent;
    try {
      if (this.stopped) return;
      const registration = this.activities.get(name);
      try {
        if (!registration) throw new ValidationError(`no activity function named "${name}" is registered`);
        this.options.faults.beforeActivity(name);
        const result: unknown = await registration.handler(parseJson(input), this.options.createContext(registration));
        outcome = historyEvents.taskCompleted(this.options.clock.now(), taskId, toJson(result));
      } catch (error) {
        logger.verbose(
          `local host: activity ${name} (instance ${instanceId}, task ${taskId}) failed: ${String(error)}`,
        );
        outcome = historyEvents.taskFailed(this.options.clock.now(), taskId, toFailureDetails(error));
      }
    } finally {
      this.releaseActivitySlot();
    }
    const crashed = this.options.faults.crashAfterActivityRan(name);
    if (crashed) {
      this.stopped = true;
      this.options.onCrash(crashed);
      return;
    }
    await this.deliver(instanceId, outcome, executionId);
  }

  // ---- entities ----------------------------------------------------------------------------

  private async enqueueEntity(schedulerId: string, request: EntityRequest): Promise<void> {
    if (this.stopped) return;
    const { name, key } = parseSchedulerId(schedulerId);
    let entity = this.entities.get(schedulerId);
    if (!entity) {
      entity = {
        entityId: schedulerId,
        name,
        key,
        exists: false,
        queue: [],
        lastModifiedTime: this.options.clock.now().toISOString(),
      };
      this.entities.set(schedulerId, entity);
    }
    entity.queue.push(request);
    await this.saveEntity(entity);
    this.scheduleEntity(schedulerId);
  }

  private scheduleEntity(schedulerId: string): void {
    if (this.stopped) return;
    void this.track(() => this.entityQueue.run(schedulerId, () => this.drainEntity(schedulerId)));
  }

  /** Runs queued operations one at a time; a failed operation leaves the state as it was. */
  private async drainEntity(schedulerId: string): Promise<void> {
    const entity = this.entities.get(schedulerId);
    while (entity && entity.queue.length > 0 && !this.stopped) {
      const request = entity.queue[0];
      const registration = this.entityFunctions.get(entity.name);
      let result: EntityOperationResult;
      let signals: EntitySignal[] = [];
      if (!registration) {
        result = { isError: true, result: JSON.stringify(`no entity function named "${entity.name}" is registered`) };
        logger.warning(
          `local host: operation "${request.operation}" for ${schedulerId} dropped: no such entity function`,
        );
      } else {
        const batchInput = {
          self: { name: entity.name, key: entity.key },
          exists: entity.exists,
          state: entity.state,
          batch: [{ id: request.id, name: request.operation, signal: request.signal, input: request.input }],
        };
        const batch = (await registration.handler(
          batchInput,
          this.options.createContext(registration),
        )) as EntityBatchResult;
        if (this.stopped) return;
        result = batch.results[0] ?? { isError: false };
        if (!result.isError) {
          entity.exists = batch.entityExists;
          entity.state = batch.entityExists ? batch.entityState : undefined;
          signals = batch.signals;
        }
      }
      entity.queue.shift();
      const saved = this.saveEntity(entity);
      if (request.replyTo) {
        const reply = result.isError
          ? {
              result:
                result.result && result.result !== "{}"
                  ? result.result
                  : JSON.stringify(`entity operation "${request.operation}" on ${schedulerId} failed`),
              exceptionType: "Error",
            }
          : { result: result.result };
        await this.deliverEvent(request.replyTo, request.id, JSON.stringify(reply));
      }
      await saved;
      for (const signal of signals) {
        await this.enqueueEntity(entitySchedulerId(signal.target.name, signal.target.key), {
          id: randomUUID(),
          operation: signal.name,
          signal: true,
          input: signal.input === "" ? undefined : signal.input,
        });
      }
    }
  }

  private async deliverEvent(instanceId: string, name: string, input: string): Promise<void> {
    await this.deliver(instanceId, historyEvents.eventRaised(this.options.clock.now(), name, input));
  }
}
