import { describe, expect, it } from "vitest";
import { EVENT_SCHEMA_VERSION } from "../../src/core/event";

describe("event schema", () => {
  it("has a version that consumers can key on", () => {
    expect(EVENT_SCHEMA_VERSION).toMatch(/^\d+$/);
  });
});
