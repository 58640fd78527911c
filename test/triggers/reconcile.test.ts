import { describe, expect, it } from "vitest";
import { isBehind } from "../../src/triggers/reconcile";

describe("reconcile: is a blob behind its checkpoint?", () => {
  it.each([
    ["a new blob with records and no checkpoint", 900, undefined, true],
    ["a new blob holding only its head and tail", 14, undefined, false],
    ["a blob reset by an operator", 900, { blockCount: 0, byteOffset: 0 }, true],
    ["a blob delivered up to its tail", 902, { blockCount: 5, byteOffset: 900 }, false],
    ["a blob that grew", 1500, { blockCount: 5, byteOffset: 900 }, true],
    ["a blob rewritten shorter", 400, { blockCount: 5, byteOffset: 900 }, true],
  ])("%s", (_, contentLength, checkpoint, behind) => {
    expect(isBehind(contentLength, checkpoint)).toBe(behind);
  });
});
