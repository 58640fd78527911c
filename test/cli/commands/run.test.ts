/**
 * `flowtap run --source DIR` over a folder `flowtap generate` wrote: every tuple comes back from
 * Event Hubs exactly once (ids compared with flattenFlowLog of the files), and a file that is not
 * a flow log is reported by path while the rest is processed.
 */
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runGenerate } from "../../../cli/commands/generate";
import { parseRunArgs, runRun, type RunRuntime } from "../../../cli/commands/run";
import { buildBlobPath, eventsOf, flattenFlowLog, type FlowEvent } from "../../../src/core";
import { fixturePath, skipWithoutFixtures } from "../../core/flowLogFixtures";

const tempDirs: string[] = [];
const NSG_CONTAINER = "insights-logs-networksecuritygroupflowevent";
const VNET_CONTAINER = "insights-logs-flowlogflowevent";
const SUBSCRIPTION = "00000000-0000-0000-0000-000000000042";

/** Writes `content` at `relativePath` (a `/`-separated container/blob path) under `dir`. */
async function put(dir: string, relativePath: string, content: Buffer): Promise<string> {
  const file = join(dir, ...relativePath.split("/"));
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content);
  return file;
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "flowtap-run-"));
  tempDirs.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

function runtime(): RunRuntime & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    io: { stdout: (text) => void (out += text), stderr: (text) => void (err += text) },
    isTty: false,
    nowMs: Date.now(),
    out: () => out,
    err: () => err,
  };
}

/** A small generated folder: 2 NICs (NSG and VNet) x 2 hours, with a scan. */
async function generatedFolder(): Promise<string> {
  const dir = await tempDir();
  const silent = { stdout: () => undefined, stderr: () => undefined };
  const code = await runGenerate(
    [
      "--out",
      dir,
      "--nics",
      "2",
      "--hours",
      "2",
      "--tuples-per-minute",
      "2",
      "--attack",
      "scan",
      "--start",
      "2026-11-22T08:00:00Z",
    ],
    silent,
  );
  expect(code).toBe(0);
  return dir;
}

/** The ids flattenFlowLog gives every PT1H.json under the folder (that `include` keeps). */
async function idsOfFolder(dir: string, include: (file: string) => boolean = () => true): Promise<string[]> {
  const ids: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name !== "PT1H.json") continue;
    const file = join(entry.parentPath, entry.name);
    if (!include(file)) continue;
    const [, ...path] = relative(dir, file).split(sep);
    ids.push(...eventsOf(flattenFlowLog(await readFile(file), { blobPath: path.join("/") })).map((event) => event.id));
  }
  return ids.sort();
}

async function eventsIn(file: string): Promise<FlowEvent[]> {
  const text = await readFile(file, "utf8");
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as FlowEvent);
}

describe("flowtap run", () => {
  it("returns every tuple of a generated folder exactly once, written to --events-out", async () => {
    // Prepare
    const source = await generatedFolder();
    // An hour without traffic: an empty records array is a valid blob.
    const quietHour = buildBlobPath({
      kind: "nsg",
      subscriptionId: SUBSCRIPTION,
      resourceGroup: "RG-QUIET",
      nsgName: "NSG-QUIET",
      year: 2026,
      month: 11,
      day: 22,
      hourOfDay: 8,
      mac: "000D3A0000AA",
    });
    await put(source, `${NSG_CONTAINER}/${quietHour}`, Buffer.from('{"records":[]}'));
    const eventsOut = join(await tempDir(), "events.ndjson");
    const io = runtime();

    // Act
    const code = await runRun(["--source", source, "--events-out", eventsOut], io);

    // Assess
    expect(code, io.err()).toBe(0);
    expect(io.err()).toBe("");
    const expected = await idsOfFolder(source);
    const events = await eventsIn(eventsOut);
    expect(expected.length).toBeGreaterThan(300);
    expect(events.map((event) => event.id).sort()).toEqual(expected);
    expect(io.out()).toMatch(/blobs with no records \(valid, done\)\s+1/);
    expect(io.out()).toContain(
      `summary: blobs=5 ` +
        `tuples=${expected.length} events=${expected.length} distinctIds=${expected.length} duplicates=0 lost=0 `,
    );
    // The scan in the history is found whatever order the backfill finishes the NIC's hourly blobs in.
    expect(io.out()).toMatch(/ anomalies=[1-9]\d* /);
    expect(io.out()).not.toContain("\x1b");
  });

  it("takes real flow logs (NSG v1, v2, VNet): a truncated one quarantined, the rest once, exit 2", async (context) => {
    skipWithoutFixtures(context);
    // Prepare: published samples under blob paths of both containers, and one truncated sample.
    const source = await tempDir();
    const REAL_HOUR = { subscriptionId: SUBSCRIPTION, year: 2026, month: 11, day: 22 };
    const nsgPath = (nsg: string, hour: string, mac: string): string =>
      `${NSG_CONTAINER}/` +
      buildBlobPath({
        ...REAL_HOUR,
        kind: "nsg",
        resourceGroup: "RG-REAL",
        nsgName: nsg,
        hourOfDay: Number(hour),
        mac,
      });
    const vnetPath = (flowLog: string, hour: string, mac: string): string =>
      `${VNET_CONTAINER}/` +
      buildBlobPath({
        ...REAL_HOUR,
        kind: "vnet",
        resourceGroup: "NetworkWatcherRG",
        networkWatcherName: "NetworkWatcher_eastus",
        flowLogName: flowLog,
        hourOfDay: Number(hour),
        mac,
      });
    const samples: Array<[string, string]> = [
      ["nsg-v1/msconnector-sampleOfInputV1.json", nsgPath("NSG-V1", "08", "000D3A000001")],
      ["nsg-v2/abhishekgangurde-DevReops-PT1H.json", nsgPath("NSG-V2", "09", "000D3A000002")],
      ["vnet/chshin9-CSP451-Milestone3-PT1H.json", vnetPath("fl-a", "08", "000D3A000003")],
      ["vnet/sumologic-blob_fixtures_vnetflowlogs.json", vnetPath("fl-b", "09", "000D3A000004")],
    ];
    for (const [fixture, blobPath] of samples) await put(source, blobPath, await readFile(fixturePath(fixture)));
    const truncatedPath = nsgPath("NSG-TRUNCATED", "09", "000D3A000005");
    const truncated = await put(
      source,
      truncatedPath,
      await readFile(
        fixturePath("nsg-v2/azure-docs-network-watcher-nsg-flow-logging-overview-md@0076652-v2-truncated.json"),
      ),
    );
    const eventsOut = join(await tempDir(), "events.ndjson");
    const io = runtime();

    // Act
    const code = await runRun(["--source", source, "--events-out", eventsOut], io);

    // Assess
    expect(code, io.err()).toBe(2);
    expect(io.err()).toContain(truncated);
    expect(io.err()).toContain(`quarantined as flowtap-quarantine/${truncatedPath}`);
    const expected = await idsOfFolder(source, (file) => file !== truncated);
    expect(expected.length).toBeGreaterThan(4000);
    expect((await eventsIn(eventsOut)).map((event) => event.id).sort()).toEqual(expected);
    expect(io.out()).toContain(
      `tuples=${expected.length} events=${expected.length} distinctIds=${expected.length} duplicates=0 lost=0 `,
    );
  });

  it("refuses bad arguments with exit code 2 and a message naming the option", async () => {
    // Prepare
    const io = runtime();

    // Act
    const missing = await runRun([], io);

    // Assess
    expect(missing).toBe(2);
    expect(io.err()).toContain("--source DIR is required");
    expect(() => parseRunArgs(["--source", "x", "--from", "2026-11-22T08:00:00Z"])).toThrow(
      "--from and --to go together",
    );
    expect(() =>
      parseRunArgs(["--source", "x", "--from", "2026-11-22T08:30:00Z", "--to", "2026-11-22T09:00:00Z"]),
    ).toThrow(/--from: .*not on a whole hour/);
    expect(
      parseRunArgs(["--source", "x", "--from", "2026-11-22T08:00:00Z", "--to", "2026-11-22T10:00:00+01:00"]).range,
    ).toEqual({
      from: "2026-11-22T08:00:00.000Z",
      to: "2026-11-22T09:00:00.000Z",
    });
  });
});
