/**
 * Fault injection for tests of the local host: failing activity attempts, a crash between an
 * activity's run and the recording of its completion, a crash between an entity operation's run and its
 * checkpoint, and duplicate trigger deliveries.
 */
import type { EngineFaultHooks } from "./engine";

export interface FailActivityOptions {
  /** 1-based invocation numbers of the activity function on this host that throw. */
  invocations: number[];
  /** The error thrown (default: `Error("injected failure of <name> invocation <n>")`). */
  error?: Error;
}

export interface CrashAfterActivityOptions {
  /** Which invocation of the activity crashes the host (1-based, default 1). */
  invocation?: number;
}

export class FaultInjector implements EngineFaultHooks {
  private readonly invocationCounts = new Map<string, number>();
  private readonly failures = new Map<string, FailActivityOptions>();
  private readonly crashes = new Map<string, { invocation: number; resolve: () => void }>();
  private readonly duplicates = new Map<string, number>();
  private readonly entityCrashes = new Map<string, { operation: string; invocation: number; resolve: () => void }>();
  private readonly operationCounts = new Map<string, number>();

  /** Makes the listed invocations of activity `name` throw before the activity runs. */
  failActivity(name: string, options: FailActivityOptions): void {
    this.failures.set(name, options);
  }

  /**
   * Stops the host right after an invocation of activity `name` ran, before its completion is
   * recorded (a crash). Resolves once the host has stopped; start a new host on the same store.
   */
  crashAfterActivity(name: string, options: CrashAfterActivityOptions = {}): Promise<void> {
    return new Promise((resolve) => this.crashes.set(name, { invocation: options.invocation ?? 1, resolve }));
  }

  /**
   * Kills the work item of an operation of entity `entityName` right after the operation ran and before its
   * checkpoint (state, response, signals), as a crash can on the real host (TaskEntityShim commits at the end of the
   * batch): nothing of it is recorded and the operation runs again when its message's lease expires (5 minutes on
   * the host clock). Resolves once the checkpoint is lost.
   */
  crashAfterEntityOperation(entityName: string, operation: string, options: CrashAfterActivityOptions = {}) {
    return new Promise<void>((resolve) =>
      this.entityCrashes.set(entityName.toLowerCase(), { operation, invocation: options.invocation ?? 1, resolve }),
    );
  }

  /** Delivers every later Event Grid or timer event of function `name` `times` times (at-least-once delivery). */
  deliverRepeatedly(name: string, times: number): void {
    if (!Number.isInteger(times) || times < 1)
      throw new RangeError(`deliverRepeatedly: times must be an integer >= 1, got ${times}`);
    this.duplicates.set(name, times);
  }

  /** How many times an event for trigger function `name` is delivered. */
  deliveryCount(name: string): number {
    return this.duplicates.get(name) ?? 1;
  }

  /** How many times activity `name` was invoked on this host. */
  activityInvocations(name: string): number {
    return this.invocationCounts.get(name) ?? 0;
  }

  beforeActivity(name: string): void {
    const invocation = this.activityInvocations(name) + 1;
    this.invocationCounts.set(name, invocation);
    const failure = this.failures.get(name);
    if (failure?.invocations.includes(invocation)) {
      throw failure.error ?? new Error(`injected failure of ${name} invocation ${invocation}`);
    }
  }

  crashAfterEntityOperationRan(entityName: string, operation: string): (() => void) | undefined {
    const key = `${entityName.toLowerCase()}\u0000${operation}`;
    const invocation = (this.operationCounts.get(key) ?? 0) + 1;
    this.operationCounts.set(key, invocation);
    const crash = this.entityCrashes.get(entityName.toLowerCase());
    if (!crash || crash.operation !== operation || crash.invocation !== invocation) return undefined;
    this.entityCrashes.delete(entityName.toLowerCase());
    return crash.resolve;
  }

  /** How many times operation `operation` of entity `entityName` ran on this host. */
  entityOperationRuns(entityName: string, operation: string): number {
    return this.operationCounts.get(`${entityName.toLowerCase()}\u0000${operation}`) ?? 0;
  }

  crashAfterActivityRan(name: string): (() => void) | undefined {
    const crash = this.crashes.get(name);
    if (!crash || crash.invocation !== this.activityInvocations(name)) return undefined;
    this.crashes.delete(name);
    return crash.resolve;
  }
}
