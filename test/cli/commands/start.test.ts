/**
 * `npm start`: the whole system with its scripted demo, in CI conditions (no TTY). The built CLI
 * runs as a child process when dist/ is at least as new as the sources, else the command's entry
 * runs in-process (a clean clone has no dist/).
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { BlobServiceClient } from "@azure/storage-blob";
import { parseStartArgs, runStart, type StartRuntime } from "../../../cli/commands/start";
import { runTail } from "../../../cli/commands/tail";
import { runQuarantine } from "../../../cli/commands/quarantine";
import { ENDPOINTS_FILE, readEndpointsFile } from "../../../devhost/endpointsFile";
import { FlowLogBlobWriter } from "../../../devhost/flowLogWriter";
import { blobPathFor, buildTopology, generateRecords } from "../../../devhost/generate";
import { eventsOf, flattenFlowLog } from "../../../src/core/flatten";

const ROOT = join(__dirname, "../../..");
const BUILT_CLI = join(ROOT, "dist/cli/main.js");
const BUILT_START = join(ROOT, "dist/cli/commands/start.js");
/** The demo takes seconds alone, but CI runs other integration tests beside it on two cores. */
const DEMO_TIMEOUT_IN_MS = 180_000;

function newestSourceMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith(".ts"))
      newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** dist/ runs the current code only if it was built after the last source change. */
function builtCliIsFresh(): boolean {
  if (!existsSync(BUILT_START)) return false;
  const sources = Math.max(...["src", "orchestrations", "activities"].map((dir) => newestSourceMs(join(ROOT, dir))));
  return statSync(BUILT_START).mtimeMs >= sources;
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function runBuilt(args: string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    // A pipe, not a terminal: what CI gives.
    const child = spawn(process.execPath, [BUILT_CLI, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** By default nobody presses Ctrl-C. */
function runtime(
  waitForShutdown: StartRuntime["waitForShutdown"] = () => new Promise<string>(() => undefined),
  rootDir?: string,
): StartRuntime & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    io: { stdout: (text) => void (out += text), stderr: (text) => void (err += text) },
    isTty: false,
    waitForShutdown,
    nowMs: Date.now(),
    ...(rootDir !== undefined && { rootDir }),
    out: () => out,
    err: () => err,
  };
}

async function runInProcess(args: string[]): Promise<Outcome> {
  const io = runtime();
  const code = await runStart(args, io);
  return { code, stdout: io.out(), stderr: io.err() };
}

function summaryOf(stdout: string): Record<string, number> {
  const line = stdout.split("\n").find((l) => l.startsWith("summary: "));
  expect(line, `no summary line in:\n${stdout}`).toBeDefined();
  return Object.fromEntries(
    (line as string)
      .slice("summary: ".length)
      .split(" ")
      .map((pair) => {
        const [key, value] = pair.split("=") as [string, string];
        return [key, Number(value)];
      }),
  );
}

/**
 * What a user does once `npm start` serves: reads .flowtap/endpoints.json, writes a flow log into
 * the storage with the Storage SDK (a clean record, a poison one, another clean one), reads its
 * events with `flowtap tail` and the quarantine with `flowtap quarantine`.
 */
async function actAsAUser(dir: string) {
  const endpoints = (await readEndpointsFile(dir))!;
  const answered = (await fetch(`${endpoints.functionsBaseUrl}/api/backfill`, { method: "POST", body: "{}" })).status;
  const topology = buildTopology({ seed: 3, nics: 1 });
  const nic = topology.nics[0]!;
  const hourIso = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000).toISOString();
  const { container, path } = blobPathFor(nic, hourIso);
  const records = [...generateRecords({ topology, nic, hourIso, minutes: { first: 0, last: 1 }, tuplesPerMinute: 3 })];
  const service = BlobServiceClient.fromConnectionString(endpoints.storageConnectionString);
  const writer = new FlowLogBlobWriter(service.getContainerClient(container), path);
  await writer.append(records[0]!);
  await writer.appendRawBlock(',{"time": "not a record"');
  await writer.append(records[1]!);
  const bytes = await service.getContainerClient(container).getBlobClient(path).downloadToBuffer();
  const expectedIds = eventsOf(flattenFlowLog(bytes, { blobPath: `${container}/${path}` }))
    .map((event) => event.id)
    .sort();
  const tailed: { id: string }[] = [];
  const silent = { stdout: () => undefined, stderr: () => undefined };
  await runTail(["--hub", "events", "--from", "start", "--count", String(expectedIds.length)], {
    io: {
      ...silent,
      stdout: (text) =>
        tailed.push(
          ...text
            .trim()
            .split("\n")
            .map((line) => JSON.parse(line) as { id: string }),
        ),
    },
    isTty: false,
    waitForShutdown: () => new Promise<string>(() => undefined),
    cwd: dir,
  });
  let listed = "";
  await runQuarantine([], { io: { ...silent, stdout: (text) => void (listed += text) }, isTty: false, cwd: dir });
  const quarantined = listed
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { endpoints, answered, tailed, expectedIds, quarantined };
}

describe("flowtap start", () => {
  it(
    "--once without a TTY runs the demo and exits 0: every tuple once, attacks captured, the silence alerted",
    async () => {
      // Prepare
      const args = ["start", "--once", "--port", "0", "--amqps-port", "0"];

      // Act
      const outcome = builtCliIsFresh() ? await runBuilt(args) : await runInProcess(args.slice(1));

      // Assess
      expect(outcome.code, outcome.stderr).toBe(0);
      expect(outcome.stdout).not.toContain("\x1b");
      expect(outcome.stdout).not.toContain("\r");
      const summary = summaryOf(outcome.stdout);
      expect(summary).toMatchObject({ lost: 0, duplicates: 0 });
      expect(summary.blobs).toBeGreaterThan(4);
      expect(summary.tuples).toBeGreaterThan(0);
      expect(summary.events).toBe(summary.tuples);
      expect(summary.distinctIds).toBe(summary.tuples);
      expect(summary.anomalies).toBeGreaterThanOrEqual(1);
      expect(summary.captures).toBeGreaterThanOrEqual(1);
      expect(summary.silentFlowLogs).toBe(1); // the scripted silence, alerted
      expect(outcome.stdout).toMatch(/backfill \S+: Completed/);
      // The Azure Monitor alert fires, starts a capture, resolves, and its capture stops early.
      expect(outcome.stdout).toMatch(
        new RegExp(
          String.raw`azure monitor alert on \S+: fired via Secure Webhook \(202, capture started\), ` +
            String.raw`resolved \(200, 1 capture\(s\) asked to stop\)`,
        ),
      );
      expect(outcome.stdout).toContain("(stopped: alert resolved)");
    },
    DEMO_TIMEOUT_IN_MS,
  );

  it(
    "--no-demo serves with no demo hints, says how to reach it in one block and in .flowtap/endpoints.json, picks up " +
      "a blob any client writes, serves it to flowtap tail and lists its quarantined record; stops on Ctrl-C",
    async () => {
      // Prepare: once it serves, act as a user in another terminal (in the same folder).
      const dir = await mkdtemp(join(tmpdir(), "flowtap-start-"));
      let seen: Awaited<ReturnType<typeof actAsAUser>> | undefined;
      const io = runtime(async () => {
        while (!io.out().includes("Ctrl-C stops it")) await new Promise((resolve) => setTimeout(resolve, 20));
        seen = await actAsAUser(dir);
        return "SIGINT";
      }, dir);

      // Act
      const code = await runStart(["--no-demo", "--port", "0", "--amqps-port", "0"], io);

      // Assess
      expect(code, io.err()).toBe(0);
      const { endpoints, answered, tailed, expectedIds, quarantined } = seen!;
      const block = io.out().slice(io.out().indexOf("flowtap is serving."));
      for (const value of [endpoints.functionKey, endpoints.masterKey, endpoints.eventHubsConnectionString])
        expect(block).toContain(value);
      expect(block).toContain(ENDPOINTS_FILE);
      expect(io.out()).not.toMatch(/demo|curl/);
      expect(answered).toBe(401);
      expect(tailed.map((event) => event.id).sort()).toEqual(expectedIds);
      expect(quarantined).toMatchObject([{ recordIndex: 1, blockIndex: 2, reason: expect.stringMatching(/record 1/) }]);
      expect(io.out()).toContain("SIGINT: stopping");
      expect(existsSync(join(dir, ENDPOINTS_FILE)), "the file of a stopped system is removed").toBe(false);
      await expect(fetch(`${endpoints.functionsBaseUrl}/api/backfill`, { method: "POST" })).rejects.toThrow();
      await rm(dir, { recursive: true, force: true });
    },
    DEMO_TIMEOUT_IN_MS,
  );

  it("stops everything and exits 0 when Ctrl-C comes before the demo ends", async () => {
    // Prepare: SIGTERM as soon as the command listens for it, long before the demo could end.
    const io = runtime(() => Promise.resolve("SIGTERM"));

    // Act
    const code = await runStart(["--port", "0", "--amqps-port", "0"], io);

    // Assess
    expect(code).toBe(0);
    expect(io.out()).toContain("SIGTERM: stopping");
    expect(io.out()).not.toContain("summary:");
  });

  it("refuses a bad port with exit code 2, naming the option", async () => {
    // Act
    const outcome = await runInProcess(["--port", "70000"]);

    // Assess
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain("--port must be an integer in [0, 65535], got '70000'");
    expect(() => parseStartArgs(["--colour"])).toThrow(/--colour/);
  });

  it("takes the host's worker process count from --workers, at most 10", () => {
    expect(parseStartArgs(["--workers", "2"]).workers).toBe(2);
    expect(parseStartArgs([]).workers).toBeUndefined();
    expect(() => parseStartArgs(["--workers", "11"])).toThrow("--workers must be an integer in [0, 10], got '11'");
  });
});
