/** The id tally behind the demo's "lost" and "duplicates". */
import { describe, expect, it } from "vitest";
import { EventIdCounter } from "../../../devhost/demo/delivery";

describe("EventIdCounter", () => {
  it("counts duplicates, lost and unexpected ids against the expected ones", () => {
    // Prepare
    const counter = new EventIdCounter();

    // Act
    for (const id of ["a", "b", "b", "x"]) counter.add(id);
    const tally = counter.tally(new Set(["a", "b", "c"]));

    // Assess
    expect(tally).toEqual({ events: 4, distinctIds: 3, duplicates: 1, lost: 1, unexpected: 1 });
  });
});
