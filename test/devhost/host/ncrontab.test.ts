import { describe, expect, it } from "vitest";
import { parseSchedule } from "../../../devhost/host";

const next = (schedule: string, after: string): string =>
  parseSchedule(schedule).nextAfter(new Date(after)).toISOString();

describe("timer schedules", () => {
  it("finds the next occurrence of six-field NCRONTAB expressions", () => {
    expect(next("0 */5 * * * *", "2026-01-01T00:00:30Z")).toBe("2026-01-01T00:05:00.000Z");
    expect(next("0 */5 * * * *", "2026-01-01T00:05:00Z")).toBe("2026-01-01T00:10:00.000Z");
    expect(next("30 15 9 * * Mon-Fri", "2026-01-02T10:00:00Z")).toBe("2026-01-05T09:15:30.000Z");
    expect(next("0 0 0 1 Jan,Jul *", "2026-02-01T00:00:00Z")).toBe("2026-07-01T00:00:00.000Z");
    expect(next("*/10 * * * * *", "2026-01-01T00:00:05Z")).toBe("2026-01-01T00:00:10.000Z");
  });

  it("accepts a TimeSpan interval", () => {
    expect(next("00:30:00", "2026-01-01T00:00:00Z")).toBe("2026-01-01T00:30:00.000Z");
  });

  it("rejects malformed schedules, naming the problem", () => {
    expect(() => parseSchedule("*/5 * * * *")).toThrow(/expected 6 NCRONTAB fields/);
    expect(() => parseSchedule("0 61 * * * *")).toThrow(/minute value "61"/);
    expect(() => parseSchedule("0 */0 * * * *")).toThrow(/bad step/);
  });
});
