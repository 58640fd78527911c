/**
 * Durable timers on the host clock: a TimerCreated event is armed until it fires (a TimerFired event
 * for the execution that created it) or its instance ends.
 */
import type { HostClock } from "./clock";

export class DurableTimers {
  private readonly armed = new Map<string, { fireAt: number; cancel: () => void }>();

  constructor(private readonly clock: HostClock) {}

  /** Arms a timer; `fired` runs once at `fireAt` (on the host clock). Re-arming the same id replaces it. */
  arm(instanceId: string, timerId: number, fireAt: Date, fired: () => void): void {
    const key = timerKey(instanceId, timerId);
    this.armed.get(key)?.cancel();
    const cancel = this.clock.schedule(fireAt, () => {
      this.armed.delete(key);
      fired();
    });
    this.armed.set(key, { fireAt: fireAt.getTime(), cancel });
  }

  disarm(instanceId: string, timerId: number): void {
    const key = timerKey(instanceId, timerId);
    this.armed.get(key)?.cancel();
    this.armed.delete(key);
  }

  /** Disarms every timer of an instance (it ended or continued as new). */
  disarmInstance(instanceId: string): void {
    for (const [key, timer] of this.armed) {
      if (key.startsWith(`${instanceId}\u0000`)) {
        timer.cancel();
        this.armed.delete(key);
      }
    }
  }

  disarmAll(): void {
    for (const timer of this.armed.values()) timer.cancel();
    this.armed.clear();
  }

  /** Earliest armed timer (ms since epoch), or undefined. */
  nextDueTime(): number | undefined {
    let earliest: number | undefined;
    for (const timer of this.armed.values()) {
      if (earliest === undefined || timer.fireAt < earliest) earliest = timer.fireAt;
    }
    return earliest;
  }
}

function timerKey(instanceId: string, timerId: number): string {
  return `${instanceId}\u0000${timerId}`;
}
