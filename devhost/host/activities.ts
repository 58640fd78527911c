/**
 * Activities of the local host: at most `maxConcurrent` at once, each attempt's outcome delivered
 * to its orchestration as TaskCompleted or TaskFailed. A crash fault stops the host after an activity ran
 * and before its completion is recorded, so the activity runs again on the next host (at-least-once).
 */
import { ValidationError } from "../../src/errors";
import { logger } from "../../src/logger";
import type { EngineBookkeeping } from "./bookkeeping";
import { historyEvents, type HistoryEvent } from "./history";
import type { FunctionRegistration } from "./registry";
import type { FunctionInvoker } from "./workers/invocations";

/** Hooks the host's fault injection plugs into (see faults.ts). */
export interface ActivityFaultHooks {
  /** Called before an activity runs; throwing makes that attempt fail. */
  beforeActivity(name: string): void;
  /** Called after an activity ran; a callback means "crash now" (run it once stopped): nothing more is recorded. */
  crashAfterActivityRan(name: string): (() => void) | undefined;
}

/** Where an activity's outcome goes: the execution and task id that scheduled it. */
export interface ActivityOrigin {
  instanceId: string;
  executionId: string;
  taskId: number;
}

export class ActivityRunner {
  private slotsInUse = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(
    private readonly book: EngineBookkeeping,
    private readonly registrations: ReadonlyMap<string, FunctionRegistration>,
    private readonly maxConcurrent: number,
    private readonly faults: ActivityFaultHooks,
    private readonly deliver: (origin: ActivityOrigin, outcome: HistoryEvent) => Promise<void>,
    private readonly crash: (crashed: () => void) => void,
    /** Runs the activity functions (in this process or in a worker process). */
    private readonly invoker: FunctionInvoker,
  ) {}

  queue(origin: ActivityOrigin, name: string, input: string | undefined): void {
    void this.book.track(() => this.run(origin, name, input));
  }

  /** Wakes every waiter of a stopped host (they see `stopped` and return). */
  releaseWaiters(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  private async acquireSlot(): Promise<void> {
    while (this.slotsInUse >= this.maxConcurrent && !this.book.stopped) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.slotsInUse++;
  }

  private releaseSlot(): void {
    this.slotsInUse--;
    this.waiters.shift()?.();
  }

  private async run(origin: ActivityOrigin, name: string, input: string | undefined): Promise<void> {
    await this.acquireSlot();
    let outcome: HistoryEvent;
    try {
      if (this.book.stopped) return;
      outcome = await this.attempt(origin, name, input);
    } finally {
      this.releaseSlot();
    }
    const crashed = this.faults.crashAfterActivityRan(name);
    if (crashed) {
      this.book.stopped = true;
      this.crash(crashed);
      return;
    }
    await this.deliver(origin, outcome);
  }

  private async attempt(origin: ActivityOrigin, name: string, input: string | undefined): Promise<HistoryEvent> {
    const registration = this.registrations.get(name);
    try {
      if (!registration) throw new ValidationError(`no activity function named "${name}" is registered`);
      this.faults.beforeActivity(name);
      // A worker process that exits mid-invocation fails it like a throw: TaskActivityShim.cs records the
      // invocation's exception (the host's WorkerProcessExitException) as TaskFailed.
      const result = await this.invoker.activity(name, input);
      return historyEvents.taskCompleted(this.book.now(), origin.taskId, result);
    } catch (error) {
      logger.verbose(
        `local host: activity ${name} (instance ${origin.instanceId}, task ${origin.taskId}) failed: ${String(error)}`,
      );
      return activityFailed(this.book.now(), origin.taskId, name, error);
    }
  }
}

/**
 * A failed activity as the extension records it. TaskActivityShim.cs (Azure/azure-functions-durable-extension
 * src/WebJobs.Extensions.DurableTask/Listener/) throws TaskFailureException with the message
 * "Activity function '<name>' failed: <message>" and, as details, the friendly exception serialized by
 * Utils.SerializeCause (DurableTask.Core; here its main fields only); DurableTask records them as the TaskFailed
 * event's Reason and Details, without FailureDetails, and durable-functions throws `Error("<Reason> \n <Details>")`.
 */
function activityFailed(at: Date, taskId: number, name: string, error: unknown): HistoryEvent {
  const message = error instanceof Error ? error.message : String(error);
  const details = JSON.stringify({
    $type: "System.Exception, System.Private.CoreLib",
    ClassName: "System.Exception",
    Message: message,
    InnerException: null,
    StackTraceString: null,
    HResult: -2146233088,
  });
  return historyEvents.taskFailed(at, taskId, `Activity function '${name}' failed: ${message}`, details);
}
