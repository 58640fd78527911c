/** `flowtap backfill` against the local host over HTTP, non-TTY output. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatProgress, measureRate, runBackfill } from "../../../cli/commands/backfillCommand";
import type { BackfillProgress } from "../../../src/core/backfillProgress";
import type { LocalSystem } from "../../../devhost/system";
import { ActivityNames } from "../../../src/contracts/names";
import { startTestSystem } from "../../scenarios/ingestion/helpers";
import { writeEndpointsFile } from "../../../devhost/endpointsFile";
import { writeHours, type WrittenBlob } from "../../scenarios/backfill/helpers";

const RANGE = ["--from", "2026-11-14T00:00:00Z", "--to", "2026-11-14T02:00:00Z"];
let system: LocalSystem;
let blobs: WrittenBlob[];

beforeAll(async () => {
  system = await startTestSystem({ clock: { mode: "real" } });
  blobs = await writeHours(system, "2026-11-14T00:00:00Z", "2026-11-14T02:00:00Z");
});
afterAll(() => system.stop());

async function run(
  args: string[],
  env: Record<string, string> = {},
  isTTY = false,
  cwd?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = Object.assign(new PassThrough(), { isTTY });
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (chunk: Buffer) => out.push(chunk));
  stderr.on("data", (chunk: Buffer) => err.push(chunk));
  const code = await runBackfill(args, { stdout, stderr, env, ...(cwd !== undefined && { cwd }) });
  return { code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}

describe("flowtap backfill", () => {
  it("starts a backfill, prints plain progress lines and the summary, and exits 0", async () => {
    const outcome = await run([
      ...RANGE,
      "--nsg",
      "nsg-app-01,nsg-app-02",
      "--nsg",
      "nsg-data-01",
      "--max-parallel",
      "3",
      "--id",
      "cli-nsg",
      "--url",
      system.host.baseUrl,
      "--key",
      system.host.keys.host,
      "--poll-ms",
      "20",
    ]);

    const nsgBlobs = blobs.filter((blob) => blob.nic.kind === "nsg").length;
    const lines = outcome.stdout.split("\n");
    expect(outcome).toMatchObject({ code: 0, stderr: "" });
    expect(lines[0]).toBe("backfill cli-nsg started");
    expect(lines).toContain(`backfill cli-nsg: Completed`);
    expect(lines).toContain(`  blobs: ${nsgBlobs} done, 0 failed, ${nsgBlobs} total`);
    expect(
      lines.some((line) =>
        new RegExp(`^100% ${nsgBlobs}/${nsgBlobs} blobs, ${2 * nsgBlobs} events, \\d+ bytes, [\\d.]+ blobs/s$`).test(
          line,
        ),
      ),
    ).toBe(true);
    expect(outcome.stdout).not.toContain("\r");
  });

  it("takes the key from FLOWTAP_FUNCTION_KEY and the host from FLOWTAP_URL", async () => {
    const outcome = await run([...RANGE, "--flow-log", "fl-vnet-app-01", "--poll-ms", "20"], {
      FLOWTAP_URL: system.host.baseUrl,
      FLOWTAP_FUNCTION_KEY: system.host.keys.host,
    });

    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toMatch(/ {2}blobs: 2 done, 0 failed, 2 total/);
  });

  it("redraws one progress bar in place on a terminal", async () => {
    const outcome = await run(
      [
        ...RANGE,
        "--flow-log",
        "fl-vnet-app-02",
        "--id",
        "cli-tty",
        "--url",
        system.host.baseUrl,
        "--key",
        system.host.keys.host,
        "--poll-ms",
        "20",
      ],
      {},
      true,
    );

    expect(outcome.code).toBe(0);
    const clearToEndOfLine = "\u001b[K";
    const [, bar] =
      outcome.stdout
        .split("\r")
        .at(-1)!
        .match(/^(.*)\n/) ?? [];
    expect(bar).toMatch(new RegExp(`^\\[#{24}\\] 100% 2/2 blobs, 4 events, \\d+ bytes, [\\d.]+ blobs/s`));
    expect(bar!.endsWith(clearToEndOfLine)).toBe(true);
    expect(outcome.stdout).toContain(`${clearToEndOfLine}\nbackfill cli-tty: Completed\n`);
  });

  it("exits 1 and lists the failed blobs with their reasons", async () => {
    // One blob at a time: the next three reads of a block list (one blob's attempts) fail.
    const done = system.host.faults.activityInvocations(ActivityNames.readBlockList);
    system.host.faults.failActivity(ActivityNames.readBlockList, {
      invocations: [done + 1, done + 2, done + 3],
      error: new Error("injected: block list unavailable"),
    });

    const outcome = await run([
      ...RANGE,
      "--mac",
      blobs[0]!.nic.macAddress,
      "--max-parallel",
      "1",
      "--id",
      "cli-fail",
      "--url",
      system.host.baseUrl,
      "--key",
      system.host.keys.host,
      "--poll-ms",
      "20",
    ]);

    expect(outcome.code).toBe(1);
    expect(outcome.stdout).toContain("  blobs: 1 done, 1 failed, 2 total");
    expect(outcome.stdout).toMatch(
      new RegExp(
        [
          " {2}failed: insights-logs-networksecuritygroupflowevent/resourceId=/.*/PT1H\\.json: ",
          ".*injected: block list unavailable",
        ].join(""),
      ),
    );
  });

  it("finds the host and its key in .flowtap/endpoints.json when no --url is given", async () => {
    // Prepare: the file npm start writes, in the folder the command runs in.
    const dir = await mkdtemp(join(tmpdir(), "flowtap-endpoints-"));
    await writeEndpointsFile(
      {
        functionsBaseUrl: system.host.baseUrl,
        functionKey: system.host.keys.host,
        masterKey: system.host.keys.master,
        storageConnectionString: system.azurite.connectionString,
        eventHubsConnectionString: system.eventHubsConnectionString,
        hubs: { events: "flows", alerts: "alerts", captures: "alerts" },
      },
      dir,
    );

    // Act
    const outcome = await run([...RANGE, "--nsg", "nsg-app-01", "--id", "cli-file", "--poll-ms", "20"], {}, false, dir);
    await rm(dir, { recursive: true, force: true });

    // Assess
    expect(outcome.stderr).toBe("");
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toContain("backfill cli-file: Completed");
    expect(outcome.stdout).toMatch(/took \d+s \(wall clock\)/);
  });

  it("exits 2 with the host's message for a refused request, and for a bad command line", async () => {
    const refused = await run([
      "--from",
      "2026-11-14T00:30:00Z",
      "--to",
      "2026-11-14T02:00:00Z",
      "--url",
      system.host.baseUrl,
      "--key",
      system.host.keys.host,
    ]);
    const unknown = await run([...RANGE, "--nsgs", "x"]);
    const missing = await run(["--from", "2026-11-14T00:00:00Z"]);

    expect(refused).toMatchObject({ code: 2, stdout: "" });
    expect(refused.stderr).toBe(
      "flowtap backfill: the host refused the request (HTTP 400): from: '2026-11-14T00:30:00Z' is not on a whole " +
        "hour (backfill works in hours)\n",
    );
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^flowtap backfill: unknown option '--nsgs'/);
    expect(missing.stderr).toMatch(/^flowtap backfill: --from and --to are required/);
  });
});

describe("formatProgress", () => {
  const progress: BackfillProgress = {
    backfillId: "b",
    phase: "ingesting",
    from: "2026-11-14T00:00:00.000Z",
    to: "2026-11-15T00:00:00.000Z",
    blobsTotal: 200,
    blobsDone: 95,
    blobsFailed: 5,
    eventsSent: 12345,
    bytesRead: 678,
    startedAt: "2026-11-22T10:00:00.000Z",
    updatedAt: "2026-11-22T10:01:00.000Z",
    rate: { blobsPerSecond: 1.67, eventsPerSecond: 205.75, bytesPerSecond: 11.3 },
    eta: "2026-11-22T10:02:00.000Z",
  };

  it("draws a bar on a terminal, a plain line otherwise, with rate and time left measured on the wall clock", () => {
    const rate = measureRate({ atMs: 0, finished: 0 }, { atMs: 60_000, finished: 100 }, 200);

    expect(formatProgress(progress, true, rate)).toBe(
      "[############------------]  50% 100/200 blobs (5 failed), 12345 events, 678 bytes, 1.67 blobs/s, 1m 00s left",
    );
    expect(formatProgress(progress, false, rate)).toBe(
      " 50% 100/200 blobs (5 failed), 12345 events, 678 bytes, 1.67 blobs/s, 1m 00s left",
    );
    expect(formatProgress(progress, false)).toBe(" 50% 100/200 blobs (5 failed), 12345 events, 678 bytes");
    expect(formatProgress({ ...progress, phase: "counting", blobsTotal: 40 }, false)).toBe("counting blobs: 40 so far");
  });
});
