import { describe, expect, it } from "vitest";
import { FlowLogFormatError, FlowtapError, ServiceError, ValidationError, configurationError } from "../src/errors";

describe("flowtap errors", () => {
  it("give every error a stable code, a name derived from it and the cause", () => {
    // Prepare
    const cause = new Error("socket hang up");

    // Act
    const errors = [
      new FlowLogFormatError("bad block", { cause }),
      new ValidationError("bad body", { cause }),
      new ServiceError("hub down", { cause, retryable: true }),
      configurationError("FLOWTAP_X is missing", { cause }),
    ];

    // Assess
    expect(errors.map((error) => [error.code, error.name])).toEqual([
      ["FlowLogFormat", "FlowLogFormatError"],
      ["Validation", "ValidationError"],
      ["Service", "ServiceError"],
      ["Configuration", "ConfigurationError"],
    ]);
    for (const error of errors) {
      expect(error).toBeInstanceOf(FlowtapError);
      expect(error.cause).toBe(cause);
    }
  });

  it("keeps whether a failed service call may be retried", () => {
    // Act
    const error = new ServiceError("namespace not found", { retryable: false });

    // Assess
    expect(error.retryable).toBe(false);
    expect(error.message).toBe("namespace not found");
  });
});
