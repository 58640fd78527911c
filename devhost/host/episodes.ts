/**
 * Orchestration history and replay: each episode hands durable-functions' replay engine the
 * history as the extension does, reads back its state and action list, and has the shim (shim.ts)
 * turn that list into scheduled work, exactly as the extension would; new work is recorded in the
 * history first, then dispatched (activities, sub-orchestrations, timers, entity messages).
 */
import { randomUUID } from "node:crypto";
import { logger } from "../../src/logger";
import type { ActivityRunner } from "./activities";
import { isTerminal, type EngineBookkeeping } from "./bookkeeping";
import type { EntityRunner } from "./entities";
import { completedIds, historyEvents, HistoryEventType, toFailureDetails, type FailureDetailsPayload } from "./history";
import type { HistoryEvent } from "./history";
import type { FunctionRegistration } from "./registry";
import { replayShim, type Decision, type ShimOutcome } from "./shim";
import type { DurableTimers } from "./timers";
import type { InstanceRecord, RuntimeStatus } from "./store";
import { KeyedSerialQueue } from "./keyedQueue";
import type { FunctionInvoker, OrchestratorOutcome } from "./workers/invocations";

export { stateFromFailure, type LibraryOrchestratorState } from "./workers/invocations";

/**
 * What the extension passes to an orchestration function. The Functions bundle [4.*, 5.0.0) brings extension
 * 2.x, whose OrchestrationTriggerAttributeBindingProvider.cs (Azure/azure-functions-durable-extension
 * src/WebJobs.Extensions.DurableTask/Bindings/) sends upperSchemaVersion = SchemaVersion.V2 (1) and
 * upperSchemaVersionNew = SchemaVersion.V3 (2); durable-functions (lib/src/orchestrations/Orchestrator.js)
 * takes upperSchemaVersionNew, so it answers in ReplaySchema.V3: no entity locks, and the compound actions the
 * shim replays in full.
 */
export function extensionBindingInput(
  instance: { instanceId: string; input: string | undefined; parentInstanceId?: string },
  history: readonly HistoryEvent[],
): Record<string, unknown> {
  return {
    history: structuredClone(history),
    input: instance.input === undefined || instance.input === "" ? undefined : (JSON.parse(instance.input) as unknown),
    instanceId: instance.instanceId,
    isReplaying: history.some((event) => event.IsPlayed),
    parentInstanceId: instance.parentInstanceId,
    upperSchemaVersion: 1,
    upperSchemaVersionNew: 2,
    maximumShortTimerDuration: "6.00:00:00",
    longRunningTimerIntervalDuration: "3.00:00:00",
    defaultHttpAsyncRequestSleepTimeMillseconds: 30_000,
  };
}

export class OrchestrationRunner {
  private readonly queue = new KeyedSerialQueue();

  constructor(
    private readonly book: EngineBookkeeping,
    private readonly registrations: ReadonlyMap<string, FunctionRegistration>,
    private readonly activities: ActivityRunner,
    private readonly entities: EntityRunner,
    private readonly timers: DurableTimers,
    /** Names of registered activities (the shim refuses to call a function that does not exist). */
    private readonly activityNames: ReadonlySet<string>,
    /** Runs the orchestrator functions (in this process or in a worker process). */
    private readonly invoker: FunctionInvoker,
  ) {}

  /** Starts an orchestration; a running id is refused, a finished id starts afresh. */
  async start(
    name: string,
    instanceId: string | undefined,
    input: string | undefined,
    parent?: InstanceRecord["parent"],
  ): Promise<StartOutcome> {
    this.book.assertRunning();
    if (!this.registrations.has(name)) return { started: false, reason: "unknownOrchestration" };
    const id = instanceId ?? randomUUID().replace(/-/g, "");
    const existing = this.book.instances.get(id);
    if (existing && !isTerminal(existing.status)) return { started: false, reason: "alreadyRunning" };
    const now = this.book.now();
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
      parent,
    };
    this.book.instances.set(id, record);
    await this.book.save(record);
    this.book.notifyStatus();
    this.scheduleEpisode(id);
    return { started: true, instanceId: id };
  }

  /** Picks up an instance loaded from the store: re-dispatches work whose completion was never recorded. */
  resume(instance: InstanceRecord): void {
    const done = completedIds([...instance.history, ...instance.inbox]);
    for (const event of instance.history) {
      if (event.EventId < 0 || done.has(event.EventId)) continue;
      const origin = { instanceId: instance.instanceId, executionId: instance.executionId, taskId: event.EventId };
      if (event.EventType === HistoryEventType.TaskScheduled) {
        this.activities.queue(origin, event.Name ?? "", event.Input);
      } else if (event.EventType === HistoryEventType.TimerCreated) {
        this.armTimer(instance, event.EventId, new Date(event.FireAt ?? event.Timestamp));
      } else if (event.EventType === HistoryEventType.SubOrchestrationInstanceCreated) {
        const child = this.book.instances.get(event.InstanceId ?? "");
        if (child && isTerminal(child.status)) this.notifyParent(child);
      }
    }
    if (instance.inbox.length > 0) this.scheduleEpisode(instance.instanceId);
  }

  scheduleEpisode(instanceId: string): void {
    if (this.book.stopped) return;
    void this.book.track(() => this.queue.run(instanceId, () => this.runEpisode(instanceId)));
  }

  /** Appends an event to an instance's inbox (if that execution still waits for it) and runs an episode. */
  async deliver(instanceId: string, event: HistoryEvent, executionId?: string): Promise<void> {
    const record = this.book.instances.get(instanceId);
    if (this.book.stopped || !record || isTerminal(record.status)) return;
    if (executionId !== undefined && executionId !== record.executionId) return;
    const id = event.TaskScheduledId ?? event.TimerId;
    if (id !== undefined && completedIds([...record.history, ...record.inbox]).has(id)) return;
    record.inbox.push(event);
    await this.book.save(record);
    this.scheduleEpisode(instanceId);
  }

  async terminate(record: InstanceRecord, reason: string): Promise<void> {
    await this.finish(record, "Terminated", reason);
  }

  private async runEpisode(instanceId: string): Promise<void> {
    const record = this.book.instances.get(instanceId);
    if (this.book.stopped || !record || isTerminal(record.status) || record.inbox.length === 0) return;
    const now = this.book.now();
    const history = [
      ...record.history.map((e) => ({ ...e, IsPlayed: true })),
      historyEvents.orchestratorStarted(now),
      ...record.inbox.splice(0),
    ];
    const registration = this.registrations.get(record.name);
    if (!registration) {
      record.history = history;
      const message = `no orchestration function named "${record.name}" is registered`;
      await this.fail(record, { ErrorType: "Error", ErrorMessage: message });
      return;
    }
    record.status = "Running";
    const instance = { ...record, parentInstanceId: record.parent?.instanceId };
    const outcome = await this.invoke(record.name, extensionBindingInput(instance, history));
    if (this.book.stopped) return;
    record.history = history;
    if (outcome.state.customStatus !== undefined) record.customStatus = outcome.state.customStatus;
    await this.interpret(record, outcome, now);
  }

  /**
   * One episode through the invoker. An invocation that never returned (its worker process exited) fails the
   * instance, as the extension's TaskOrchestrationShim.InvokeUserCodeAndHandleResults does with any exception
   * that carries no orchestrator state (Azure/azure-functions-durable-extension src/WebJobs.Extensions.DurableTask/
   * Listener/TaskOrchestrationShim.cs): "Orchestrator function 'x' failed: <message>".
   */
  private async invoke(name: string, bindingInput: Record<string, unknown>): Promise<OrchestratorOutcome> {
    try {
      return await this.invoker.orchestrator(name, bindingInput);
    } catch (error) {
      return { state: { isDone: false, actions: [[]] }, failure: toFailureDetails(error) };
    }
  }

  /** OutOfProcOrchestrationShim.ScheduleDurableTaskEvents: replay the actions, then fail, finish or wait. */
  private async interpret(record: InstanceRecord, outcome: OrchestratorOutcome, now: Date): Promise<void> {
    const { state, failure } = outcome;
    const shim = replayShim(record.history, state.actions, (kind, name) =>
      kind === "activity" ? this.activityNames.has(name) : this.registrations.has(name),
    );
    if (shim.nonDeterminism || shim.invalid) {
      const errorType = shim.nonDeterminism ? "NonDeterministicOrchestrationError" : "InvalidOperationError";
      await this.fail(record, { ErrorType: errorType, ErrorMessage: (shim.nonDeterminism ?? shim.invalid)! });
      return;
    }
    if (failure !== undefined) {
      await this.fail(record, failure);
      return;
    }
    const dispatches = this.record(record, shim, now);
    if (shim.continueAsNew) {
      await this.continueAsNew(record, shim.continueAsNew.input);
    } else if (state.isDone) {
      await this.finish(record, "Completed", state.output);
    } else {
      record.history.push(historyEvents.orchestratorCompleted(now));
      await this.book.save(record);
      this.book.notifyStatus();
    }
    // Events that arrived meanwhile scheduled their own episode (deliver), queued after this one.
    for (const dispatch of dispatches) await dispatch();
  }

  /** Records the new decisions in the history; returns the dispatches to run once it is saved. */
  private record(record: InstanceRecord, shim: ShimOutcome, now: Date): (() => Promise<void>)[] {
    // A cancelled timer (a Task.any loser) is disarmed, so an idle virtual clock does not jump to it.
    for (const id of shim.cancelledTimers) this.timers.disarm(record.instanceId, id);
    return shim.newDecisions.map((decision) => {
      record.history.push(schedulingEventOf(record, decision, now));
      return () => this.dispatch(record, decision);
    });
  }

  private async dispatch(record: InstanceRecord, decision: Decision): Promise<void> {
    const origin = { instanceId: record.instanceId, executionId: record.executionId, taskId: decision.id };
    switch (decision.kind) {
      case "activity":
        this.activities.queue(origin, decision.name, decision.input);
        return;
      case "subOrchestration":
        return this.startChild(origin, decision.name, childInstanceId(record, decision), decision.input);
      case "timer":
        this.armTimer(record, decision.id, decision.fireAt);
        return;
      case "entity": {
        const { target, operation, input, requestId, signal } = decision;
        const request = { id: requestId, operation, signal, input };
        return this.entities.enqueue(target, signal ? request : { ...request, replyTo: record.instanceId });
      }
    }
  }

  private armTimer(record: Pick<InstanceRecord, "instanceId" | "executionId">, id: number, fireAt: Date): void {
    if (this.book.stopped) return;
    const { instanceId, executionId } = record;
    const fireAtIso = fireAt.toISOString();
    this.timers.arm(instanceId, id, fireAt, () => {
      const current = this.book.instances.get(instanceId);
      const stillWaiting = current?.history.some(
        (e) => e.EventType === HistoryEventType.TimerCreated && e.EventId === id && e.FireAt === fireAtIso,
      );
      if (!stillWaiting) return;
      const fired = historyEvents.timerFired(this.book.now(), id, fireAtIso);
      void this.book.track(() => this.deliver(instanceId, fired, executionId));
    });
  }

  /**
   * A sub-orchestration start. DurableTask.Core drops an ExecutionStarted message for an instance that is
   * already running (Azure/durabletask src/DurableTask.Core/TaskOrchestrationDispatcher.cs, "Duplicate start
   * event"), so its parent waits for a completion that never comes; a finished instance starts afresh. (An
   * unknown name never gets here: the shim fails the parent first, as the extension's
   * ThrowIfFunctionDoesNotExist does.)
   */
  private async startChild(
    parent: { instanceId: string; executionId: string; taskId: number },
    name: string,
    childId: string,
    input: string | undefined,
  ): Promise<void> {
    const outcome = await this.start(name, childId, input, parent);
    if (!outcome.started)
      logger.warning(`local host: start of sub-orchestration ${childId} (${name}) dropped: ${outcome.reason}`);
  }

  private async continueAsNew(record: InstanceRecord, input: unknown): Promise<void> {
    this.timers.disarmInstance(record.instanceId);
    const now = this.book.now();
    record.executionId = randomUUID();
    record.input = input === undefined ? undefined : JSON.stringify(input);
    record.history = [];
    record.inbox = [historyEvents.executionStarted(now, record.name, record.input), ...record.inbox];
    await this.book.save(record);
    this.book.notifyStatus();
    this.scheduleEpisode(record.instanceId);
  }

  private async fail(record: InstanceRecord, failure: FailureDetailsPayload): Promise<void> {
    logger.warning(
      `local host: orchestration ${record.name} (${record.instanceId}) failed: ` +
        `${failure.ErrorType}: ${failure.ErrorMessage}`,
    );
    record.failure = {
      errorType: failure.ErrorType,
      errorMessage: failure.ErrorMessage,
      stackTrace: failure.StackTrace,
    };
    await this.finish(record, "Failed", `Orchestrator function '${record.name}' failed: ${failure.ErrorMessage}`);
  }

  private async finish(record: InstanceRecord, status: RuntimeStatus, output: unknown): Promise<void> {
    this.timers.disarmInstance(record.instanceId);
    record.status = status;
    record.output = output;
    record.inbox = [];
    await this.book.saveFinished(record);
    this.book.notifyStatus();
    this.notifyParent(record);
  }

  /**
   * The parent's completion event. A failed child reaches it as DurableTask.Core builds it without FailureDetails
   * (the extension keeps ErrorPropagationMode.SerializeExceptions): Reason is the OrchestrationFailureException's
   * message ("Orchestrator function 'x' failed: <error>", OutOfProcOrchestrationShim.ScheduleDurableTaskEvents)
   * and Details its details ("Message: <error>, StackTrace: ..."); a terminated child's Reason is the
   * termination reason (TaskOrchestrationDispatcher.cs). durable-functions then throws
   * `Error("<Reason> \n <Details>")` in the parent (TaskOrchestrationExecutor.setTaskValue).
   */
  private notifyParent(child: InstanceRecord): void {
    if (!child.parent) return;
    const now = this.book.now();
    const { instanceId, executionId, taskId } = child.parent;
    const event =
      child.status === "Completed"
        ? historyEvents.subOrchestrationCompleted(now, taskId, JSON.stringify(child.output) ?? "null")
        : historyEvents.subOrchestrationFailed(now, taskId, failureReason(child), failureDetails(child));
    void this.book.track(() => this.deliver(instanceId, event, executionId));
  }
}

function failureReason(child: InstanceRecord): string {
  return child.status === "Failed" ? String(child.output) : String(child.output ?? "");
}

function failureDetails(child: InstanceRecord): string {
  if (child.status !== "Failed") return "";
  return `Message: ${child.failure?.errorMessage ?? ""}, StackTrace: ${child.failure?.stackTrace ?? ""}`;
}

/** The history event that records a decision (what DurableTask.Core writes for the orchestrator action). */
export function schedulingEventOf(
  instance: Pick<InstanceRecord, "instanceId" | "executionId">,
  decision: Decision,
  now: Date,
): HistoryEvent {
  switch (decision.kind) {
    case "activity":
      return historyEvents.taskScheduled(now, decision.id, decision.name, decision.input);
    case "subOrchestration": {
      const childId = childInstanceId(instance, decision);
      return historyEvents.subOrchestrationCreated(now, decision.id, decision.name, childId, decision.input);
    }
    case "timer":
      return historyEvents.timerCreated(now, decision.id, decision.fireAt);
    case "entity":
      return historyEvents.eventSent(now, decision.id, decision.target, "op", entityRequestMessage(instance, decision));
  }
}

/** DurableTask.Core's id of a sub-orchestration started without one: `<executionId>:<task id>`. */
function childInstanceId(
  record: Pick<InstanceRecord, "executionId">,
  decision: Extract<Decision, { kind: "subOrchestration" }>,
): string {
  return decision.instanceId ?? `${record.executionId}:${decision.id}`;
}

/** The extension's RequestMessage (EventSent input): op, signal, input, id, parent, parentExecution. */
function entityRequestMessage(
  record: Pick<InstanceRecord, "instanceId" | "executionId">,
  decision: Extract<Decision, { kind: "entity" }>,
): string {
  return JSON.stringify({
    op: decision.operation,
    signal: decision.signal,
    input: decision.input,
    id: decision.requestId,
    parent: record.instanceId,
    parentExecution: record.executionId,
  });
}

/** Why starting an instance was refused. */
export type StartOutcome =
  { started: true; instanceId: string } | { started: false; reason: "unknownOrchestration" | "alreadyRunning" };
