import { describe, expect, it } from "vitest";
import { ExactlyOnceTally, type ReadBackMessage } from "../../bench/exactlyOnce";

/** A message as the sink sends one event (FLOWTAP_EVENTS_PER_MESSAGE=1). */
const single = (id: string): ReadBackMessage => ({
  properties: { flowtapEventId: id, flowtapEventCount: 1, flowtapSchemaVersion: 2 },
  body: Buffer.from(JSON.stringify({ id, srcIp: "10.0.0.4" })),
});

/** A packed message: a JSON array of events. */
const packed = (ids: string[]): ReadBackMessage => ({
  properties: { flowtapEventId: ids[0], flowtapLastEventId: ids.at(-1), flowtapEventCount: ids.length },
  body: Buffer.from(JSON.stringify(ids.map((id) => ({ id })))),
});

describe("ExactlyOnceTally", () => {
  it("passes when every expected event arrived once, single and packed alike", () => {
    // Prepare
    const tally = new ExactlyOnceTally();

    // Act
    tally.add(single("a"));
    tally.add(packed(["b", "c", "d"]));
    const verdict = tally.verdict(4);

    // Assess
    expect(verdict).toMatchObject({ messages: 2, events: 4, distinctIds: 4, duplicates: 0, missing: 0 });
    expect(verdict.exactlyOnce).toBe(true);
  });

  it("fails on an event delivered twice, counting the repeat", () => {
    // Prepare
    const tally = new ExactlyOnceTally();

    // Act
    tally.add(single("a"));
    tally.add(packed(["a", "b"]));
    const verdict = tally.verdict(2);

    // Assess
    expect(verdict).toMatchObject({ events: 3, distinctIds: 2, duplicates: 1, missing: 0, exactlyOnce: false });
  });

  it("fails on a lost event even when a repeat makes the count match", () => {
    // Prepare
    const tally = new ExactlyOnceTally();

    // Act
    tally.add(single("a"));
    tally.add(single("a"));
    const verdict = tally.verdict(2);

    // Assess
    expect(verdict).toMatchObject({ events: 2, distinctIds: 1, duplicates: 1, missing: 1, exactlyOnce: false });
  });

  it("fails on a message whose ids cannot be read", () => {
    // Prepare
    const tally = new ExactlyOnceTally();

    // Act
    tally.add(single("a"));
    tally.add({ properties: { flowtapEventCount: 2 }, body: "not json" });
    tally.add({ properties: { flowtapEventCount: 3 }, body: JSON.stringify([{ id: "x" }]) });
    const verdict = tally.verdict(1);

    // Assess
    expect(verdict).toMatchObject({ events: 1, unreadable: 2, exactlyOnce: false });
  });

  it("fails when more distinct events arrived than were written", () => {
    // Prepare
    const tally = new ExactlyOnceTally();

    // Act
    tally.add(packed(["a", "b", "c"]));
    const verdict = tally.verdict(2);

    // Assess
    expect(verdict).toMatchObject({ distinctIds: 3, missing: 0, exactlyOnce: false });
  });
});
