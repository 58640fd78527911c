import { describe, expect, it } from "vitest";
import { PartitionLog } from "../../../devhost/eventhubs/partitionLog";

const bytes = (size: number): Buffer => Buffer.alloc(size, 0x61);

function logOfThree(limits = { maxEvents: 100, maxBytes: 1000 }): PartitionLog {
  const log = new PartitionLog(limits);
  log.append(bytes(10), undefined, new Date(1000));
  log.append(bytes(20), "k", new Date(2000));
  log.append(bytes(30), "k", new Date(3000));
  return log;
}

describe("PartitionLog", () => {
  it("numbers events and advances offsets by their sizes", () => {
    // Act
    const log = logOfThree();

    // Assess
    expect(log.retained().map((event) => [event.sequenceNumber, event.offset])).toEqual([
      [0, "0"],
      [1, "10"],
      [2, "30"],
    ]);
    expect(log.runtimeInfo()).toMatchObject({
      beginningSequenceNumber: 0,
      lastEnqueuedSequenceNumber: 2,
      lastEnqueuedOffset: "30",
      isEmpty: false,
    });
  });

  it("starts past the end for positions beyond the last event", () => {
    const log = logOfThree();

    expect(log.startSequenceNumberFor("amqp.annotation.x-opt-sequence-number > '2'")).toBe(3);
    expect(log.startSequenceNumberFor("amqp.annotation.x-opt-offset >= '31'")).toBe(3);
    expect(log.startSequenceNumberFor("amqp.annotation.x-opt-enqueued-time > '3000'")).toBe(3);
    expect(log.startSequenceNumberFor("amqp.annotation.x-opt-enqueued-time > '1999'")).toBe(1);
    expect(log.startSequenceNumberFor("amqp.annotation.x-opt-offset >= '10'")).toBe(1);
  });

  it("drops the oldest events past the count limit; readers from the start begin at the oldest kept", () => {
    // Act
    const log = logOfThree({ maxEvents: 2, maxBytes: 1000 });

    // Assess
    expect(log.retained().map((event) => event.sequenceNumber)).toEqual([1, 2]);
    expect(log.retainedBytes).toBe(50);
    expect(log.runtimeInfo().beginningSequenceNumber).toBe(1);
    expect(log.startSequenceNumberFor("amqp.annotation.x-opt-offset > '-1'")).toBe(1);
    expect(log.startSequenceNumberFor("amqp.annotation.x-opt-sequence-number >= '0'")).toBe(1);
    expect(log.nextFrom(0)?.sequenceNumber).toBe(1);
  });

  it("drops the oldest events past the byte limit but always keeps the newest", () => {
    // Act
    const log = logOfThree({ maxEvents: 100, maxBytes: 25 });

    // Assess: 30 bytes > 25, yet the newest stays; offsets and numbers go on.
    expect(log.retained().map((event) => [event.sequenceNumber, event.offset])).toEqual([[2, "30"]]);
    expect(log.retainedBytes).toBe(30);
  });

  it("keeps its own copy of each event, so a kept event does not pin the buffer it came in", () => {
    // Prepare
    const frame = Buffer.from("abcdef");
    const log = new PartitionLog({ maxEvents: 10, maxBytes: 100 });

    // Act
    log.append(frame.subarray(1, 3), undefined, new Date(0));
    frame.fill(0);

    // Assess
    expect(log.retained()[0].encoded.toString()).toBe("bc");
    expect(log.retained()[0].encoded.buffer).not.toBe(frame.buffer);
  });

  it("refuses selectors it does not understand, naming them", () => {
    const log = logOfThree();

    expect(() => log.startSequenceNumberFor("amqp.annotation.x-opt-offset < '5'")).toThrow(
      /unsupported selector filter "amqp\.annotation\.x-opt-offset < '5'"/,
    );
    expect(() => log.startSequenceNumberFor("amqp.annotation.x-opt-offset > 'abc'")).toThrow(/"abc" is not a number/);
  });
});
