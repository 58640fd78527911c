import { mkdirSync, mkdtempSync, copyFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { runFlatten } from "../../cli/commands/flatten";
import { buildBlobPath, eventsOf, flattenFlowLog, type FlowEvent } from "../../src/core";
import { fixturePath, readFixture } from "../core/flowLogFixtures";

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
  it("writes one JSON event per tuple of a file and exits 0", async () => {
    const file = "nsg-v2/danifitz-azure-nsg-flow-logs-newrelic-PT1H.json";
    const outcome = await run([fixturePath(file)]);
    expect(outcome).toMatchObject({ code: 0, stderr: "" });
    expect(outcome.events).toEqual(eventsOf(flattenFlowLog(readFixture(file), { blobPath: fixturePath(file) })));
    expect(outcome.events).toHaveLength(8203);
  });

  it("reads stdin for - and takes the blob from --blob-path (with its container)", async () => {
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

  it("takes the blob from a file path laid out like the container", async () => {
    const file = join(scratch, "insights-logs-networksecuritygroupflowevent", NSG_BLOB);
    mkdirSync(dirname(file), { recursive: true });
    copyFileSync(fixturePath("nsg-v2/elastic-nsg-pipeline-test-nsg-log.json"), file);
    const outcome = await run([file]);
    expect(outcome.events.map((event) => [event.blob, event.targetResourceGroup])).toEqual([[NSG_BLOB, "RG-1"]]);
  });

  it("writes what parsed, reports problems with file and positions, and exits 2", async () => {
    const file = fixturePath("nsg-v1/azure-docs-network-watcher-nsg-flow-logging-overview-md@0076652-v1-invalid.json");
    const outcome = await run([file]);
    expect(outcome.code).toBe(2);
    expect(outcome.events).toHaveLength(21);
    expect(outcome.stderr.split("\n")).toEqual([
      `flowtap flatten: ${file}: unexpected '"' at byte 3373 outside any record (not a flow-log record or records array)`,
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
    const outcome = await run([], Readable.from([Buffer.from(JSON.stringify(record))]));
    expect(outcome.code).toBe(2);
    expect(outcome.events).toHaveLength(1);
    expect(outcome.stderr).toBe(
      `flowtap flatten: <stdin>: record 0, tuple 1: expected 8 or 13 comma-separated fields, got 1: "bad"\n`,
    );
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
