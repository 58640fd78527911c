import { describe, expect, it } from "vitest";
import { PartitionLog } from "../../../devhost/eventhubs/partitionLog";

function logOfThree(): PartitionLog {
  const log = new PartitionLog();
  log.append({ body: "a" }, 10, undefined, new Date(1000));
  log.append({ body: "b" }, 20, "k", new Date(2000));
  log.append({ body: "c" }, 30, "k", new Date(3000));
  return log;
}

describe("PartitionLog", () => {
  it("numbers events and advances offsets by their sizes", () => {
    const log = logOfThree();

    expect(log.events.map((event) => [event.sequenceNumber, event.offset])).toEqual([
      [0, "0"],
      [1, "10"],
      [2, "30"],
    ]);
    expect(log.runtimeInfo()).toMatchObject({
      lastEnqueuedSequenceNumber: 2,
      lastEnqueuedOffset: "30",
      isEmpty: false,
    });
  });

  it("starts past the end for positions beyond the last event", () => {
    const log = logOfThree();

    expect(log.startIndexFor("amqp.annotation.x-opt-sequence-number > '2'")).toBe(3);
    expect(log.startIndexFor("amqp.annotation.x-opt-offset >= '31'")).toBe(3);
    expect(log.startIndexFor("amqp.annotation.x-opt-enqueued-time > '3000'")).toBe(3);
    expect(log.startIndexFor("amqp.annotation.x-opt-enqueued-time > '1999'")).toBe(1);
  });

  it("refuses selectors it does not understand, naming them", () => {
    const log = logOfThree();

    expect(() => log.startIndexFor("amqp.annotation.x-opt-offset < '5'")).toThrow(
      /unsupported selector filter "amqp\.annotation\.x-opt-offset < '5'"/,
    );
    expect(() => log.startIndexFor("amqp.annotation.x-opt-offset > 'abc'")).toThrow(/"abc" is not a number/);
  });
});
