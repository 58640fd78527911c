/** `flowtap tail` options, its terminal table, and compact messages read back (a running system: start.test.ts). */
import { describe, expect, it } from "vitest";
import { parseTailArgs, runTail, tableRow } from "../../../cli/commands/tail";
import { encodeEvent, eventsOf, flattenFlowLog } from "../../../src/core";
import { startEventHubsEndpoint } from "../../../devhost/eventhubs";
import { readFixture, skipWithoutFixtures } from "../../core/flowLogFixtures";
import { localSink } from "../../adapters/localSink";

describe("flowtap tail", () => {
  it("defaults to new events of the events hub, without end", () => {
    expect(parseTailArgs([])).toEqual({ hub: "events", from: "end", count: undefined, connection: undefined });
    expect(parseTailArgs(["--hub", "captures", "--from", "start", "--count", "3"])).toMatchObject({
      hub: "captures",
      from: "start",
      count: 3,
    });
  });

  it.each([
    [["--hub", "flows"], "--hub must be one of events, alerts, captures, got 'flows'"],
    [["--from", "yesterday"], "--from must be start or end, got 'yesterday'"],
    [["--count", "0"], "--count must be a positive integer, got '0'"],
    [["--follow"], "--follow"],
  ])("refuses %j with exit code 2, naming the option", async (args, message) => {
    let err = "";

    const code = await runTail(args, {
      io: { stdout: () => undefined, stderr: (text) => void (err += text) },
      isTty: false,
      waitForShutdown: () => new Promise<string>(() => undefined),
    });

    expect(code).toBe(2);
    expect(err).toContain(message);
  });

  it("shows a flow event as its tuple and an alert as its type on a terminal", () => {
    const flow = { time: "2026-11-22T10:00:01.000Z", decision: "A", protocol: "T", srcIp: "10.0.0.4", srcPort: 443 };
    const row = tableRow({ ...flow, dstIp: "10.0.0.5", dstPort: 51000 });
    const alert = tableRow({ time: "2026-11-22T10:05:00.000Z", type: "flowtap.anomaly", id: "a-1" });

    expect(row).toMatch(/^2026-11-22T10:00:01.000Z +A +T +10\.0\.0\.4:443 +-> 10\.0\.0\.5:51000$/);
    expect(alert).toMatch(/^2026-11-22T10:05:00.000Z +flowtap.anomaly +a-1$/);
  });

  it("prints the events of compact messages (gzip, shared records) one plain JSON event per line", async (ctx) => {
    skipWithoutFixtures(ctx);
    // Prepare
    const events = eventsOf(flattenFlowLog(readFixture("nsg-v2/sumologic-blob_fixtures.json"))).slice(0, 150);
    const eh = await startEventHubsEndpoint({ hubs: [{ name: "flows", partitionCount: 2 }] });
    const sink = localSink(eh, "flows", { messageFormat: "compact", eventsPerMessage: 100 });
    let out = "";
    try {
      await sink.send(events.map((event) => ({ id: event.id, ...sink.encode(event, 2), partitionKey: "k" })));
      const namespace = eh.connectionString("flows").replace(/EntityPath=[^;]*;?/, "");
      // Act
      const code = await runTail(["--from", "start", "--count", String(events.length), "--connection", namespace], {
        io: { stdout: (text) => void (out += text), stderr: () => undefined },
        isTty: false,
        waitForShutdown: () => new Promise<string>(() => undefined),
      });
      // Assess
      expect(code).toBe(0);
    } finally {
      await sink.close();
      await eh.stop();
    }
    expect(events.length).toBeGreaterThan(100);
    expect(out.trimEnd().split("\n")).toEqual(events.map((event) => encodeEvent(event)));
  });
});
