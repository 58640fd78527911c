/**
 * The durable engine of the local host, and its client API (what the extension's HTTP API and
 * `LocalHost` call): it wires the parts together, loads the store, and starts, signals, raises,
 * terminates and purges. The parts: history and replay (episodes.ts with the extension's shim in
 * shim.ts), activities (activities.ts), entities (entities.ts), durable timers (timers.ts), and the
 * shared working set (bookkeeping.ts).
 */
import { randomUUID } from "node:crypto";
import { ActivityRunner, type ActivityFaultHooks } from "./activities";
import { EngineBookkeeping, isTerminal } from "./bookkeeping";
import type { HostClock } from "./clock";
import { EntityRunner, entitySchedulerId, type EntityFaultHooks } from "./entities";
import { OrchestrationRunner, type StartOutcome } from "./episodes";
import { historyEvents } from "./history";
import type { FunctionRegistration } from "./registry";
import type { EntityRecord, HostStore, InstanceRecord } from "./store";
import { DurableTimers } from "./timers";
import type { FunctionInvoker } from "./workers/invocations";

export { entitySchedulerId, isTerminal, type StartOutcome };

/** Hooks the host's fault injection plugs into (see faults.ts). */
export type EngineFaultHooks = ActivityFaultHooks & EntityFaultHooks;

export interface EngineOptions {
  registrations: readonly FunctionRegistration[];
  store: HostStore;
  clock: HostClock;
  maxConcurrentActivities: number;
  /** Runs activity, orchestrator and entity functions: in the host process, or in worker processes. */
  invoker: FunctionInvoker;
  faults: EngineFaultHooks;
  /** Called when a fault asks for a crash: the host stops without recording anything more, then calls `crashed`. */
  onCrash: (crashed: () => void) => void;
}

export type InstanceOperationOutcome = "accepted" | "notFound" | "notRunning";

function byTrigger(registrations: readonly FunctionRegistration[], trigger: string, lowerCase = false) {
  return new Map(
    registrations
      .filter((registration) => registration.triggerType === trigger)
      .map((registration) => [lowerCase ? registration.name.toLowerCase() : registration.name, registration]),
  );
}

export class DurableEngine {
  private readonly book: EngineBookkeeping;
  private readonly timers: DurableTimers;
  private readonly activities: ActivityRunner;
  private readonly entityRunner: EntityRunner;
  private readonly orchestrations: OrchestrationRunner;

  constructor(options: EngineOptions) {
    const { registrations, faults, onCrash } = options;
    this.timers = new DurableTimers(options.clock);
    this.book = new EngineBookkeeping(options.store, options.clock, () => this.timers.nextDueTime());
    const activityFunctions = byTrigger(registrations, "activityTrigger");
    this.activities = new ActivityRunner(
      this.book,
      activityFunctions,
      options.maxConcurrentActivities,
      faults,
      (origin, outcome) => this.orchestrations.deliver(origin.instanceId, outcome, origin.executionId),
      onCrash,
      options.invoker,
    );
    this.entityRunner = new EntityRunner(
      this.book,
      byTrigger(registrations, "entityTrigger", true),
      faults,
      this.timers,
      (instanceId, requestId, response) =>
        this.orchestrations.deliver(instanceId, historyEvents.eventRaised(this.book.now(), requestId, response)),
      options.invoker,
    );
    this.orchestrations = new OrchestrationRunner(
      this.book,
      byTrigger(registrations, "orchestrationTrigger"),
      this.activities,
      this.entityRunner,
      this.timers,
      new Set(activityFunctions.keys()),
      options.invoker,
    );
  }

  get instances(): ReadonlyMap<string, InstanceRecord> {
    return this.book.instances;
  }

  get entities(): ReadonlyMap<string, EntityRecord> {
    return this.book.entities;
  }

  /** Loads the store and resumes every unfinished instance and entity queue from it. */
  async resume(): Promise<void> {
    const snapshot = await this.book.store.load();
    for (const entity of snapshot.entities) this.book.entities.set(entity.entityId, entity);
    for (const instance of snapshot.instances) this.book.instances.set(instance.instanceId, instance);
    for (const instance of snapshot.instances) {
      if (!isTerminal(instance.status)) this.orchestrations.resume(instance);
    }
    for (const entity of snapshot.entities) {
      if (entity.queue.length > 0) this.entityRunner.schedule(entity.entityId);
    }
    // Re-armed timers alone start no work: let an auto-advancing clock see the idle host.
    setImmediate(() => this.book.onMaybeIdle());
  }

  /** Counts a unit of work (the host's trigger invocations) so `whenIdle` knows when nothing can run. */
  track(work: () => Promise<void>): Promise<void> {
    return this.book.track(work);
  }

  /** Earliest pending durable timer (ms since epoch), or undefined. */
  nextTimerDueTime(): number | undefined {
    return this.timers.nextDueTime();
  }

  whenIdle(): Promise<void> {
    return this.book.whenIdle();
  }

  whenInstance(instanceId: string, predicate: (record: InstanceRecord | undefined) => boolean) {
    return this.book.whenInstance(instanceId, predicate);
  }

  /** Stops all scheduling: timers are cancelled, running work is abandoned (its results dropped). */
  async stop(): Promise<void> {
    this.book.stopped = true;
    this.timers.disarmAll();
    this.activities.releaseWaiters();
    await this.book.stop();
  }

  /** Ids whose start was refused because the instance was running (errors the real host logs), oldest first. */
  readonly refusedStarts: string[] = [];

  /** Starts an orchestration; a running id is refused, a finished id starts afresh. */
  async startOrchestration(
    name: string,
    instanceId: string | undefined,
    input: string | undefined,
  ): Promise<StartOutcome> {
    const outcome = await this.orchestrations.start(name, instanceId, input);
    if (!outcome.started && outcome.reason === "alreadyRunning" && instanceId) this.refusedStarts.push(instanceId);
    return outcome;
  }

  async raiseEvent(instanceId: string, eventName: string, data: string | undefined): Promise<InstanceOperationOutcome> {
    this.book.assertRunning();
    const record = this.book.instances.get(instanceId);
    if (!record) return "notFound";
    if (isTerminal(record.status)) return "notRunning";
    record.inbox.push(historyEvents.eventRaised(this.book.now(), eventName, data));
    await this.book.save(record);
    this.orchestrations.scheduleEpisode(instanceId);
    return "accepted";
  }

  async terminate(instanceId: string, reason: string): Promise<InstanceOperationOutcome> {
    this.book.assertRunning();
    const record = this.book.instances.get(instanceId);
    if (!record) return "notFound";
    if (isTerminal(record.status)) return "notRunning";
    await this.orchestrations.terminate(record, reason);
    return "accepted";
  }

  /** Deletes a finished instance's record; returns how many were deleted. */
  async purge(instanceId: string): Promise<number> {
    const record = this.book.instances.get(instanceId);
    if (!record || !isTerminal(record.status)) return 0;
    this.book.instances.delete(instanceId);
    await this.book.persist(this.book.store.deleteInstance(instanceId));
    return 1;
  }

  /** Queues a one-way operation for an entity. */
  async signalEntity(name: string, key: string, operation: string, input: string | undefined): Promise<void> {
    this.book.assertRunning();
    const request = { id: randomUUID(), operation, signal: true, input };
    await this.entityRunner.enqueue(entitySchedulerId(name, key), request);
  }
}
