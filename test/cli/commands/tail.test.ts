/** `flowtap tail` options, its terminal table, Log Analytics rows and compact messages read back. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseTailArgs, runTail, tableRow } from "../../../cli/commands/tail";
import { readSinkSettings } from "../../../src/config";
import { createLogsIngestionSink } from "../../../src/adapters/logsIngestionSink";
import { encodeEvent, eventsOf, flattenFlowLog } from "../../../src/core";
import { writeEndpointsFile } from "../../../devhost/endpointsFile";
import { startEventHubsEndpoint } from "../../../devhost/eventhubs";
import { startLogsIngestionEndpoint } from "../../../devhost/logsingestion";
import { syntheticEvents } from "../../support/syntheticEvents";
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
    [["--hub", "flows"], "--hub must be one of events, alerts, captures, loganalytics, got 'flows'"],
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

  it("prints the rows the local Logs Ingestion endpoint accepted (--hub loganalytics)", async () => {
    // Prepare: rows uploaded through the real client; an endpoints file naming the endpoint.
    const endpoint = await startLogsIngestionEndpoint();
    const cwd = await mkdtemp(join(tmpdir(), "flowtap-tail-"));
    try {
      const settings = readSinkSettings(await endpoint.appSettings()).logsIngestion!;
      const events = syntheticEvents(5);
      await createLogsIngestionSink(settings).send(events);
      const { endpoint: url, ruleId, streamName, caCertificatePem } = endpoint;
      await writeEndpointsFile(
        {
          functionsBaseUrl: "http://localhost:1",
          functionKey: "k",
          masterKey: "m",
          storageConnectionString: "UseDevelopmentStorage=true",
          eventHubsConnectionString: "Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=v",
          hubs: { events: "flows", alerts: "alerts", captures: "alerts" },
          logsIngestion: { endpoint: url, ruleId, streamName, caCertificatePem, token: await endpoint.mintToken() },
        },
        cwd,
      );
      let out = "";
      // Act
      const code = await runTail(["--hub", "loganalytics", "--from", "start", "--count", "3"], {
        io: { stdout: (text) => void (out += text), stderr: () => undefined },
        isTty: false,
        waitForShutdown: () => new Promise<string>(() => undefined),
        cwd,
      });
      // Assess
      expect(code).toBe(0);
      const printed = out
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(printed.map((row) => row.EventOriginalUid)).toEqual(events.slice(0, 3).map((event) => event.id));
    } finally {
      await endpoint.stop();
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it("shows an ASIM row as its tuple on a terminal", () => {
    const row = { TimeGenerated: "2026-11-22T10:00:01.000Z", DvcAction: "Deny", NetworkProtocol: "TCP" };
    const text = tableRow({
      ...row,
      SrcIpAddr: "10.0.0.4",
      SrcPortNumber: 443,
      DstIpAddr: "10.0.0.5",
      DstPortNumber: 1,
    });
    expect(text).toMatch(/^2026-11-22T10:00:01.000Z +Deny +TCP +10\.0\.0\.4:443 +-> 10\.0\.0\.5:1$/);
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
