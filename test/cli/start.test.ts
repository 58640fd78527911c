/**
 * `npm start`: the whole system with its scripted demo, in CI conditions (no TTY). The built CLI
 * runs as a child process when dist/ is at least as new as the sources, else the command's entry
 * runs in-process (a clean clone has no dist/).
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseStartArgs, runStart, type StartRuntime } from "../../cli/commands/start";

const ROOT = join(__dirname, "../..");
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
): StartRuntime & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    io: { stdout: (text) => void (out += text), stderr: (text) => void (err += text) },
    isTty: false,
    waitForShutdown,
    nowMs: Date.now(),
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

describe("flowtap start", () => {
  it(
    "--once without a TTY runs the demo and exits 0: every tuple once, the attacks detected and captured",
    async () => {
      // Prepare
      const args = ["start", "--once", "--port", "0"];

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
      expect(outcome.stdout).toMatch(/backfill \S+: Completed/);
      // The Azure Monitor alert fires, starts a capture, resolves, and its capture stops early.
      expect(outcome.stdout).toMatch(
        /azure monitor alert on \S+: fired via Secure Webhook \(202, capture started\), resolved \(200, 1 capture\(s\) asked to stop\)/,
      );
      expect(outcome.stdout).toContain("(stopped: alert resolved)");
    },
    DEMO_TIMEOUT_IN_MS,
  );

  it("serves until asked to stop, then stops everything and exits 0", async () => {
    // Prepare: stop as soon as the host answers on its port.
    let servedUrl = "";
    let answeredWhileServing = 0;
    const io = runtime(async () => {
      while (!io.out().includes("Ctrl-C stops it")) await new Promise((resolve) => setTimeout(resolve, 20));
      servedUrl = /on (http:\/\/localhost:\d+)\/api/.exec(io.out())?.[1] ?? "";
      answeredWhileServing = (await fetch(`${servedUrl}/api/backfill`, { method: "POST", body: "{}" })).status;
      return "SIGINT";
    });

    // Act
    const code = await runStart(["--no-demo", "--port", "0"], io);

    // Assess: the host answered (401: no function key), and no longer listens.
    expect(code).toBe(0);
    expect(answeredWhileServing).toBe(401);
    expect(io.out()).toContain("curl -s -X POST");
    expect(io.out()).toContain("SIGINT: stopping");
    await expect(fetch(`${servedUrl}/api/backfill`, { method: "POST", body: "{}" })).rejects.toThrow();
  });

  it("stops everything and exits 0 when Ctrl-C comes before the demo ends", async () => {
    // Prepare: SIGTERM as soon as the command listens for it, long before the demo could end.
    const io = runtime(() => Promise.resolve("SIGTERM"));

    // Act
    const code = await runStart(["--port", "0"], io);

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
});
