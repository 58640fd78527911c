import { ValidationError } from "../../src/errors";

/**
 * The local ARM endpoint's notion of "now" (drives packet-capture time limits).
 * Real time until a test sets or advances it; from then on it stands still, so outcomes
 * do not depend on how fast the test runs.
 */
export class ArmClock {
  private frozenAtInMs: number | undefined;

  /** Current time in milliseconds since the epoch. */
  now(): number {
    return this.frozenAtInMs ?? Date.now();
  }

  /** Moves time forward (freezing it if it was running). */
  advanceBy(durationInMs: number): void {
    if (!Number.isFinite(durationInMs) || durationInMs < 0) {
      throw new ValidationError(`ArmClock.advanceBy: durationInMs must be a finite number >= 0, got ${durationInMs}`);
    }
    this.frozenAtInMs = this.now() + durationInMs;
  }

  /** Sets the time (a Date or milliseconds since the epoch) and freezes it. */
  set(time: Date | number): void {
    const timeInMs = typeof time === "number" ? time : time.getTime();
    if (!Number.isFinite(timeInMs)) throw new ValidationError(`ArmClock.set: not a valid time: ${String(time)}`);
    this.frozenAtInMs = timeInMs;
  }

  /** Back to the real clock. */
  useRealTime(): void {
    this.frozenAtInMs = undefined;
  }
}
