/**
 * The host's time source for durable timers, history timestamps and timer triggers.
 * Real by default; virtual in tests, where time only moves when the test (or the host, when
 * every instance is idle and `autoAdvance` is on) jumps to the next due timer.
 */

export interface HostClock {
  readonly kind: "real" | "virtual";
  now(): Date;
  /** Calls `callback` once the clock reaches `dueAt`; returns a cancel function. */
  schedule(dueAt: Date, callback: () => void): () => void;
}

/** Wall-clock time and `setTimeout` (re-armed in steps: Node timers overflow after ~24.8 days). */
export class RealClock implements HostClock {
  readonly kind = "real";
  private static readonly maxDelayInMs = 2 ** 31 - 1;

  now(): Date {
    return new Date();
  }

  schedule(dueAt: Date, callback: () => void): () => void {
    let handle: NodeJS.Timeout;
    const arm = (): void => {
      const delayInMs = dueAt.getTime() - Date.now();
      if (delayInMs <= 0) {
        callback();
        return;
      }
      handle = setTimeout(arm, Math.min(delayInMs, RealClock.maxDelayInMs));
      handle.unref();
    };
    handle = setTimeout(arm, 0);
    handle.unref();
    return () => clearTimeout(handle);
  }
}

interface VirtualTimer {
  dueAt: number;
  sequence: number;
  callback: () => void;
}

/** Test time: stands still until `advance`/`advanceTo`/`advanceToNextTimer` (or the idle host) moves it. */
export class VirtualClock implements HostClock {
  readonly kind = "virtual";
  /** When true, the host jumps to the next due timer whenever nothing else can run. */
  autoAdvance: boolean;
  private currentInMs: number;
  private timers: VirtualTimer[] = [];
  private sequence = 0;

  constructor(startTime: Date = new Date("2026-01-01T00:00:00Z"), autoAdvance = true) {
    this.currentInMs = startTime.getTime();
    this.autoAdvance = autoAdvance;
  }

  now(): Date {
    return new Date(this.currentInMs);
  }

  schedule(dueAt: Date, callback: () => void): () => void {
    const timer: VirtualTimer = { dueAt: dueAt.getTime(), sequence: this.sequence++, callback };
    this.timers.push(timer);
    this.timers.sort((a, b) => a.dueAt - b.dueAt || a.sequence - b.sequence);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** When the earliest pending timer is due, or undefined when none is pending. */
  nextDueTime(): Date | undefined {
    return this.timers.length > 0 ? new Date(this.timers[0].dueAt) : undefined;
  }

  /** Jumps forward by `durationInMs`, then fires every timer that fell due, in due order. */
  advance(durationInMs: number): void {
    if (!(durationInMs >= 0)) throw new RangeError(`advance: durationInMs must be >= 0, got ${durationInMs}`);
    this.advanceTo(new Date(this.currentInMs + durationInMs));
  }

  /** Jumps to `time` (never backwards), then fires every timer due by then, in due order. */
  advanceTo(time: Date): void {
    const targetInMs = Math.max(time.getTime(), this.currentInMs);
    this.currentInMs = targetInMs;
    while (this.timers.length > 0 && this.timers[0].dueAt <= targetInMs) {
      (this.timers.shift() as VirtualTimer).callback();
    }
  }

  /** Jumps to the earliest pending timer and fires it (and any due at the same time); false when none. */
  advanceToNextTimer(): boolean {
    const next = this.nextDueTime();
    if (!next) return false;
    this.advanceTo(next);
    return true;
  }
}
