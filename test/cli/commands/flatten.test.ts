import { mkdirSync, mkdtempSync, copyFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PassThrough, Readable, Writable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { runFlatten } from "../../../cli/commands/flatten";
import { buildBlobPath, eventsOf, flattenFlowLog, type FlowEvent } from "../../../src/core";
import { fixturePath, readFixture, skipWithoutFixtures } from "../../core/flowLogFixtures";
import { blobPathFor, buildTopology, generateRecords } from "../../../devhost/generate";

interface RunOutcome {
  code: number;
  events: FlowEvent[];
  stderr: string;
}

async function run(args: string[], stdin: Readable = Readable.from([])): Promise<RunOutcome> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (chunk: Buffer) => out.push(chunk));
  stderr.on("data", (chunk: Buffer) => err.push(chunk));
  const code = await runFlatten(args, { stdin, stdout, stderr });
  const lines = Buffer.concat(out)
    .toString("utf8")
    .split("\n")
    .filter((line) => line !== "");
  return {
    code,
    events: lines.map((line) => JSON.parse(line) as FlowEvent),
    stderr: Buffer.concat(err).toString("utf8"),
  };
}

const NSG_BLOB = buildBlobPath({
  kind: "nsg",
  subscriptionId: "SUB-1",
  resourceGroup: "RG-1",
  nsgName: "NSG-1",
  year: 2020,
  month: 7,
  day: 8,
  hourOfDay: 20,
  mac: "000D3A000001",
});
const scratch = mkdtempSync(join(tmpdir(), "flowtap-flatten-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("flowtap flatten", () => {
  it("writes one JSON event per tuple of a file and exits 0", async (context) => {
    skipWithoutFixtures(context);
    const file = "nsg-v2/danifitz-azure-nsg-flow-logs-newrelic-PT1H.json";
    const outcome = await run([fixturePath(file)]);
    expect(outcome).toMatchObject({ code: 0, stderr: "" });
    expect(outcome.events).toEqual(eventsOf(flattenFlowLog(readFixture(file), { blobPath: fixturePath(file) })));
    expect(outcome.events).toHaveLength(8203);
  });

  it("reads stdin for - and takes the blob from --blob-path (with its container)", async (context) => {
    skipWithoutFixtures(context);
    const input = Readable.from([readFixture("nsg-v2/elastic-nsg-sample_logs-testdata-log.json")]);
    const outcome = await run(["-", "--blob-path", `insights-logs-networksecuritygroupflowevent/${NSG_BLOB}`], input);
    expect(outcome.code).toBe(0);
    expect(outcome.events).toHaveLength(11);
    expect(outcome.events[0]).toMatchObject({
      blob: NSG_BLOB,
      targetSubscriptionId: "SUB-1",
      targetName: "NSG-1",
      mac: "000D3AF87856",
    });
  });

  it("takes the blob from a file path laid out like the container", async (context) => {
    skipWithoutFixtures(context);
    const file = join(scratch, "insights-logs-networksecuritygroupflowevent", NSG_BLOB);
    mkdirSync(dirname(file), { recursive: true });
    copyFileSync(fixturePath("nsg-v2/elastic-nsg-pipeline-test-nsg-log.json"), file);
    const outcome = await run([file]);
    expect(outcome.events.map((event) => [event.blob, event.targetResourceGroup])).toEqual([[NSG_BLOB, "RG-1"]]);
  });

  it("writes what parsed, reports problems with file and positions, and exits 2", async (context) => {
    skipWithoutFixtures(context);
    const file = fixturePath("nsg-v1/azure-docs-network-watcher-nsg-flow-logging-overview-md@0076652-v1-invalid.json");
    const outcome = await run([file]);
    expect(outcome.code).toBe(2);
    expect(outcome.events).toHaveLength(21);
    expect(outcome.stderr.split("\n")).toEqual([
      `flowtap flatten: ${file}: unexpected '"' at byte 3373 outside any record (not a flow-log record or records ` +
        `array)`,
      `flowtap flatten: ${file}: the records array is not closed: the input ends at byte 6034 without ']}'`,
      "",
    ]);
  });

  it("names record and tuple of a bad tuple on stderr", async () => {
    const record = {
      time: "t",
      properties: {
        Version: 1,
        flows: [{ rule: "r", flows: [{ mac: "m", flowTuples: ["1700000000,a,b,1,2,T,I,A", "bad"] }] }],
      },
    };
    const outcome = await run(["--blob-path", NSG_BLOB], Readable.from([Buffer.from(JSON.stringify(record))]));
    expect(outcome.code).toBe(2);
    expect(outcome.events).toHaveLength(1);
    expect(outcome.stderr).toBe(
      `flowtap flatten: <stdin>: record 0, tuple 1: expected 8 or 13 comma-separated fields, got 1: "bad"\n`,
    );
  });

  it("gives stdin without --blob-path the blob its records imply: same ids as from storage, NSG and VNet", async () => {
    // Prepare: a generated hour of each kind, with the blob path the writer would store it under.
    const topology = buildTopology({ seed: 5, nics: 2 });
    const hourIso = "2026-11-22T10:00:00Z";
    const inputs = topology.nics.map((nic) => {
      const records = [...generateRecords({ topology, nic, hourIso, minutes: { first: 0, last: 1 } })];
      return { text: JSON.stringify({ records }), blob: blobPathFor(nic, hourIso) };
    });

    // Act
    const outcomes = await Promise.all(inputs.map((input) => run([], Readable.from([Buffer.from(input.text)]))));

    // Assess
    expect(new Set(topology.nics.map((nic) => nic.kind))).toEqual(new Set(["nsg", "vnet"]));
    outcomes.forEach((outcome, i) => {
      const { text, blob } = inputs[i]!;
      const stored = eventsOf(flattenFlowLog(text, { blobPath: `${blob.container}/${blob.path}` }));
      expect(outcome).toMatchObject({ code: 0, stderr: "" });
      expect(outcome.events.map((event) => event.id)).toEqual(stored.map((event) => event.id));
      expect(outcome.events[0]!.blob).toBe(blob.path);
    });
    expect(outcomes[0]!.events[0]!.id).not.toBe(outcomes[1]!.events[0]!.id);
  });

  it("refuses stdin whose first record does not say its blob, asking for --blob-path", async () => {
    const outcome = await run([], Readable.from([Buffer.from('{"records":[{"time":"2026-11-22T10:00:00Z"}]}')]));

    expect(outcome.code).toBe(2);
    expect(outcome.events).toEqual([]);
    expect(outcome.stderr).toMatch(/^flowtap flatten: <stdin>: the first record does not say its blob: .*--blob-path/);
  });

  it("escapes control characters of the input it echoes in messages", async () => {
    const record = {
      time: "t",
      properties: { Version: 1, flows: [{ rule: "r", flows: [{ mac: "m", flowTuples: ["\u001b[2J\nforged"] }] }] },
    };

    const outcome = await run(["--blob-path", NSG_BLOB], Readable.from([Buffer.from(JSON.stringify(record))]));

    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('"\\u001b[2J\\nforged"');
    // One line, with no raw control character in it.
    expect([...outcome.stderr.trimEnd()].filter((char) => char.charCodeAt(0) < 0x20)).toEqual([]);
  });

  it("exits 0 with nothing on stderr when the reader closes the pipe (| head)", async () => {
    // Prepare: a reader that takes one chunk, then closes its end of the pipe.
    const topology = buildTopology({ seed: 5, nics: 1 });
    const nic = topology.nics[0]!;
    const records = [
      ...generateRecords({ topology, nic, hourIso: "2026-11-22T10:00:00Z", minutes: { first: 0, last: 59 } }),
    ];
    const text = JSON.stringify({ records });
    const stdout = new Writable({
      highWaterMark: 16,
      write(_chunk, _encoding, callback) {
        const epipe = Object.assign(new Error("write EPIPE"), { code: "EPIPE" });
        setImmediate(() => callback(epipe));
      },
    });
    const stderr = new PassThrough();

    // Act
    const code = await runFlatten([], { stdin: Readable.from([Buffer.from(text)]), stdout, stderr });

    // Assess
    expect(code).toBe(0);
    expect(stderr.read()).toBeNull();
  });

  it.each([
    [["--bogus"], /unknown option '--bogus'/],
    [["a", "b"], /more than one FILE/],
    [["--blob-path"], /--blob-path needs a value/],
    [["--blob-path", "not/a/flow/log.json"], /--blob-path: not a flow-log blob path .*'not\/a\/flow\/log.json'/],
    [[join(scratch, "missing.json")], /cannot read .*missing.json/],
  ])("refuses %j with exit code 2", async (args, message) => {
    const outcome = await run(args);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(message);
  });

  it("prints usage for --help", async () => {
    const stdout = new PassThrough();
    const code = await runFlatten(["--help"], { stdin: Readable.from([]), stdout, stderr: new PassThrough() });
    expect(code).toBe(0);
    expect(String(stdout.read())).toMatch(/^usage: flowtap flatten/);
  });
});
