/**
 * What every part of the local durable engine shares: the working set of instances and entities
 * (written through to the store), the host clock, the count of running work (for `whenIdle`), status
 * listeners, and the stopped flag of a crashed or stopped host.
 */
import { ValidationError } from "../../src/errors";
import { logFailure } from "../../src/logger";
import { VirtualClock, type HostClock } from "./clock";
import type { EntityRecord, HostStore, InstanceRecord, RuntimeStatus } from "./store";

const terminalStatuses: ReadonlySet<RuntimeStatus> = new Set(["Completed", "Failed", "Terminated"]);

export function isTerminal(status: RuntimeStatus): boolean {
  return terminalStatuses.has(status);
}

export class EngineBookkeeping {
  readonly instances = new Map<string, InstanceRecord>();
  readonly entities = new Map<string, EntityRecord>();
  stopped = false;
  private busy = 0;
  private readonly statusListeners = new Set<() => void>();
  private readonly idleListeners = new Set<() => void>();
  private readonly pendingSaves = new Set<Promise<void>>();

  constructor(
    readonly store: HostStore,
    readonly clock: HostClock,
    /** The earliest armed durable timer (ms since epoch), for the auto-advancing clock. */
    private readonly nextTimerDueTime: () => number | undefined,
  ) {}

  now(): Date {
    return this.clock.now();
  }

  /** Counts a unit of work (also the host's trigger invocations) so `whenIdle` knows when nothing can run. */
  track(work: () => Promise<void>): Promise<void> {
    this.busy++;
    return work()
      .catch((error: unknown) => logFailure("local host: background work failed", error))
      .finally(() => {
        this.busy--;
        if (this.busy === 0) setImmediate(() => this.onMaybeIdle());
      });
  }

  onMaybeIdle(): void {
    if (this.busy > 0) return;
    const clock = this.clock;
    if (!this.stopped && clock instanceof VirtualClock && clock.autoAdvance) {
      const next = this.nextTimerDueTime();
      if (next !== undefined) {
        clock.advanceTo(new Date(next));
        if (this.busy > 0) return;
      }
    }
    for (const listener of [...this.idleListeners]) listener();
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

  notifyStatus(): void {
    for (const listener of [...this.statusListeners]) listener();
  }

  save(instance: InstanceRecord): Promise<void> {
    instance.lastUpdatedTime = this.now().toISOString();
    return this.persist(this.store.saveInstance(instance));
  }

  /**
   * Saves a finished instance, then lets its in-memory record read the history from the store (when the store can)
   * instead of holding a copy: nothing replays a finished instance, and only status queries read its history.
   */
  async saveFinished(instance: InstanceRecord): Promise<void> {
    await this.save(instance);
    const store = this.store;
    if (!store.savedHistory || this.instances.get(instance.instanceId) !== instance) return;
    const instanceId = instance.instanceId;
    Object.defineProperty(instance, "history", {
      configurable: true,
      enumerable: true,
      get: () => store.savedHistory?.(instanceId) ?? [],
      set: (history: InstanceRecord["history"]) =>
        Object.defineProperty(instance, "history", { value: history, writable: true, enumerable: true }),
    });
  }

  saveEntity(entity: EntityRecord): Promise<void> {
    entity.lastModifiedTime = this.now().toISOString();
    return this.persist(this.store.saveEntity(entity));
  }

  persist(write: Promise<void>): Promise<void> {
    this.pendingSaves.add(write);
    return write.finally(() => this.pendingSaves.delete(write));
  }

  /** Marks the engine stopped and waits for the writes already under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.pendingSaves]);
  }

  assertRunning(): void {
    if (this.stopped) throw new ValidationError("the local host is stopped: start a new host on the same store");
  }
}
